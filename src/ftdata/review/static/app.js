// The review page. Dataset text only ever enters the DOM through textContent (see el()), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { record: null, undo: [], editing: false, preview: null, busy: false };

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch("api/" + path, options);
  const data = await response.json().catch(() => ({ error: "the server sent no JSON" }));
  return { status: response.status, data };
}

function toast(message, kind) {
  const t = $("toast");
  t.textContent = message;
  t.className = "toast show " + (kind || "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = "toast"; }, kind === "error" ? 6000 : 2200);
}

function filterParams() {
  return { status: $("f-status").value, rule: $("f-rule").value, verdict: $("f-verdict").value,
           min_risk: $("f-risk").value };
}

async function refreshState() {
  const { data } = await api("state");
  const p = data.progress;
  $("dataset").textContent = (data.input || "").split("/").pop() + " \u00b7 " + (data.records || 0).toLocaleString() + " records";
  $("dataset").title = data.input || "";
  $("progress-text").textContent = `${p.decided} / ${p.queued} decided`;
  for (const s of ["accepted", "edited", "rejected"]) {
    $("meter-" + s).style.width = p.queued ? (100 * p[s] / p.queued) + "%" : "0";
  }
  const a = data.audit;
  $("audit").textContent = a.decided
    ? `rest: ${(100 * a.rate).toFixed(1)}% need work (95% CI ${(100 * a.ci95[0]).toFixed(1)}\u2013${(100 * a.ci95[1]).toFixed(1)}%, ${a.decided}/${a.sampled} audited)`
    : `audit: 0/${a.sampled} decided`;
  const j = data.judge;
  $("agreement").textContent = j && j.verdict_accuracy !== null
    ? `judge agreed on ${Math.round(100 * j.verdict_accuracy)}% of ${j.verdict_pairs}` + (j.spearman !== null ? `, \u03c1 ${j.spearman.toFixed(2)}` : "")
    : "";
  const rule = $("f-rule"), chosen = rule.value;
  rule.replaceChildren(el("option", null, "any"));
  rule.firstChild.value = "";
  for (const r of data.rules) {
    const o = el("option", null, `${r.code} ${r.name} (${r.records})`);
    o.value = r.code;
    rule.appendChild(o);
  }
  rule.value = chosen;
}

async function go(direction, fromRank) {
  const params = new URLSearchParams(filterParams());
  const rank = fromRank !== undefined ? fromRank : (state.record ? state.record.rank : "");
  params.set("rank", rank === null ? "" : rank);
  params.set("dir", String(direction));
  const { data } = await api("next?" + params.toString());
  if (data.done) {
    if (direction > 0 && state.record && fromRank === undefined) toast("End of the filter", "");
    if (!state.record || fromRank !== undefined) showEmpty();
    return false;
  }
  show(data);
  return true;
}

function showEmpty() {
  state.record = null;
  $("conversation").replaceChildren();
  $("empty").hidden = false;
  $("empty").textContent = "Nothing here: no queued record matches the filter.";
  for (const id of ["findings", "judge"]) $(id).replaceChildren();
}

function show(record) {
  state.record = record;
  leaveEdit();
  $("empty").hidden = true;
  $("rec-pos").textContent = "#" + (record.rank + 1);
  $("rec-queue").textContent = record.queue === "audit" ? "audit sample" : record.queue === "earlier" ? "decided earlier" : "risk";
  $("rec-queue").className = "tag " + record.queue;
  $("rec-status").textContent = record.status;
  $("rec-status").className = "status " + record.status;
  $("rec-risk").textContent = record.risk.toFixed(2);
  $("rec-risk-fill").style.width = (100 * record.risk) + "%";
  $("rec-line").textContent = "input line " + record.line;
  renderConversation(record.view);
  renderFindings(record.findings);
  renderJudge(record.judge);
  const info = $("decision-info");
  info.textContent = record.status === "pending" ? "" :
    `${record.status} by ${record.reviewer || "?"} at ${record.decided_at || "?"}` + (record.reason ? ` \u2014 ${record.reason}` : "");
  document.title = `#${record.rank + 1} \u00b7 ftdata review`;
}

function renderConversation(view) {
  const box = $("conversation");
  box.replaceChildren();
  if (view.error) box.appendChild(el("div", "banner error", view.error));
  if (view.format) box.appendChild(el("div", "format muted small", view.format + (view.tools && view.tools.length ? " \u00b7 tools: " + view.tools.join(", ") : "")));
  for (const section of view.sections) {
    if (view.sections.length > 1) box.appendChild(el("h3", "section " + section.title, section.title));
    for (const m of section.messages) box.appendChild(renderMessage(m));
  }
  if (view.error) {
    box.appendChild(el("pre", "raw", state.record.text));
  }
}

function renderMessage(m) {
  const role = ["system", "developer", "user", "assistant", "tool"].includes(m.role) ? m.role : "other";
  const node = el("div", "msg " + role);
  if (m.path) node.dataset.path = JSON.stringify(m.path);
  const head = el("div", "role", m.role);
  const extra = (m.name ? " \u00b7 " + m.name : "") + (m.tool_call_id ? " \u00b7 " + m.tool_call_id : "");
  if (extra) head.appendChild(el("span", "role-extra", extra));  // names and ids keep their case
  node.appendChild(head);
  if (m.content) node.appendChild(el("div", "content", m.content));
  else if (!m.tool_calls.length && !m.images.length) node.appendChild(el("div", "content empty-content", "(empty)"));
  for (const url of m.images) {
    const img = el("img", "image");
    img.src = url;  // only data:image/png|jpeg|gif|webp reach here (render.py)
    img.alt = "image in the record";
    node.appendChild(img);
  }
  for (const link of m.image_links) node.appendChild(el("div", "image-link muted small", "image: " + link));
  for (const call of m.tool_calls) {
    const c = el("div", "tool-call");
    c.appendChild(el("div", "tool-name", "\u2192 " + (call.name || "?") + (call.id ? "  (" + call.id + ")" : "")));
    c.appendChild(el("pre", "tool-args", prettyArgs(call.arguments)));
    node.appendChild(c);
  }
  return node;
}

function prettyArgs(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
}

function renderFindings(findings) {
  const list = $("findings");
  list.replaceChildren();
  $("findings-count").textContent = findings.length ? String(findings.length) : "";
  if (!findings.length) list.appendChild(el("li", "muted", "no findings"));
  for (const f of findings) {
    const li = el("li", "finding " + f.severity);
    const head = el("div", "finding-head");
    head.appendChild(el("span", "sev " + f.severity, f.severity));
    head.appendChild(el("span", "code", f.code));
    head.appendChild(el("span", "name", f.name));
    li.appendChild(head);
    if (f.field) li.appendChild(el("div", "field", f.field));
    li.appendChild(el("div", "message", f.message));
    list.appendChild(li);
  }
}

function renderJudge(judge) {
  const box = $("judge");
  box.replaceChildren();
  if (!judge) { box.appendChild(el("div", "muted", "not judged (run ftdata judge first)")); return; }
  const head = el("div", "judge-head");
  head.appendChild(el("span", "verdict " + (judge.verdict || ""), judge.verdict || "?"));
  if (typeof judge.overall === "number") head.appendChild(el("span", "overall", judge.overall.toFixed(1) + " / 5"));
  box.appendChild(head);
  const scores = judge.scores || {};
  for (const [name, value] of Object.entries(scores)) {
    const row = el("div", "score");
    row.appendChild(el("span", "dim", name));
    const bar = el("span", "score-bar");
    const fill = el("span");
    fill.style.width = (typeof value === "number" ? 20 * value : 0) + "%";
    bar.appendChild(fill);
    row.appendChild(bar);
    row.appendChild(el("span", "num", value));
    box.appendChild(row);
  }
  if (judge.rationale) box.appendChild(el("p", "rationale", judge.rationale));
}

async function decide(status, extra) {
  const r = state.record;
  if (!r || state.busy) return;
  state.busy = true;
  try {
    const { status: code, data } = await api(`record/${encodeURIComponent(r.key)}/decide`,
      Object.assign({ status, version: r.version }, extra || {}));
    if (code === 409) { toast(data.error, "error"); show((await api(`record/${encodeURIComponent(r.key)}`)).data); return; }
    if (code === 422) { showCheck(data.findings, null, data.error); return; }
    if (code !== 200) { toast(data.error || "failed", "error"); return; }
    state.undo.push({ key: r.key, version: data.version });
    toast(status === "edited" ? "Edit saved" : status[0].toUpperCase() + status.slice(1), "ok");
    await refreshState();
    if (!(await go(1))) show(data);
  } finally { state.busy = false; }
}

async function undo() {
  const last = state.undo.pop();
  if (!last) { toast("Nothing to undo", ""); return; }
  const { status, data } = await api(`record/${encodeURIComponent(last.key)}/undo`, { version: last.version });
  if (status !== 200) { toast(data.error || "undo failed", "error"); return; }
  toast("Undone", "ok");
  await refreshState();
  show(data);
}

function enterEdit() {
  const r = state.record;
  if (!r) return;
  state.preview = null;
  $("edit-result").replaceChildren();
  const editable = document.querySelectorAll("#conversation .msg[data-path]");
  if (!editable.length) { editJSON(r.text); return; }
  state.editing = "turns";
  $("edit-bar").hidden = false;
  let last = null;
  for (const node of editable) {
    const area = el("textarea", "turn-edit");
    area.value = node.querySelector(".content") ? node.querySelector(".content").textContent : "";
    if (node.querySelector(".empty-content")) area.value = "";
    area.rows = Math.min(12, Math.max(2, area.value.split("\n").length + 1));
    area.setAttribute("aria-label", "text of this turn");
    const shown = node.querySelector(".content");
    if (shown) shown.replaceWith(area); else node.appendChild(area);
    last = area;
  }
  last.focus();
}

function editJSON(text) {
  state.editing = "json";
  state.preview = null;
  $("edit-bar").hidden = true;
  $("conversation").hidden = true;
  $("editor").hidden = false;
  $("edit-text").value = text;
  $("edit-text").focus();
}

// the record's JSON with the edited turns put back at their paths
function editedText() {
  if (state.editing === "json") return $("edit-text").value;
  const record = JSON.parse(state.record.text);
  for (const node of document.querySelectorAll("#conversation .msg[data-path]")) {
    const path = JSON.parse(node.dataset.path);
    let target = record;
    for (const step of path.slice(0, -1)) target = target[Array.isArray(target) ? Number(step) : step];
    target[path[path.length - 1]] = node.querySelector("textarea").value;
  }
  return JSON.stringify(record, null, 2);
}

function leaveEdit() {
  const wasTurns = state.editing === "turns";
  state.editing = false;
  state.preview = null;
  $("editor").hidden = true;
  $("edit-bar").hidden = true;
  $("conversation").hidden = false;
  $("edit-result").replaceChildren();
  if (wasTurns && state.record) renderConversation(state.record.view);
}

function showCheck(findings, diff, error) {
  const box = $("edit-result");
  box.replaceChildren();
  if (error) box.appendChild(el("div", "banner error", error));
  if (diff) {
    const changed = diff.some(([op]) => op !== "=");
    box.appendChild(el("div", "banner ok", changed
      ? "Passes the check. Word-level changes below; Ctrl+Enter saves, Esc cancels."
      : "No change from the original."));
    const pre = el("pre", "diff");
    for (const [op, text] of diff) pre.appendChild(op === "=" ? unchanged(text) : el(op === "-" ? "del" : "ins", null, text));
    box.appendChild(pre);
  }
  const list = el("ul", "findings");
  for (const f of findings || []) {
    const li = el("li", "finding " + f.severity);
    li.appendChild(el("span", "sev " + f.severity, f.severity));
    li.appendChild(el("span", "code", " " + f.code + " "));
    li.appendChild(el("span", "message", (f.field ? f.field + ": " : "") + f.message));
    list.appendChild(li);
  }
  if (findings && findings.length) box.appendChild(list);
}

// long unchanged stretches of a diff fold to their first and last two lines
function unchanged(text) {
  const lines = text.split("\n");
  if (lines.length <= 6) return el("span", null, text);
  const span = el("span");
  span.appendChild(document.createTextNode(lines.slice(0, 2).join("\n") + "\n"));
  span.appendChild(el("span", "fold", `\u22ef ${lines.length - 4} unchanged lines \u22ef`));
  span.appendChild(document.createTextNode("\n" + lines.slice(-2).join("\n")));
  return span;
}

async function checkOrSave() {
  const text = editedText();
  if (state.preview !== null && state.preview === text) { await decide("edited", { text }); return; }
  const { data } = await api(`record/${encodeURIComponent(state.record.key)}/preview`, { text });
  state.preview = data.ok ? text : null;
  showCheck(data.findings, data.ok ? data.diff : null,
    data.ok ? null : "Refused: this edit does not pass the check, so it cannot be saved.");
}

function openReject() {
  if (!state.record) return;
  $("reason-dialog").hidden = false;
  $("reason-text").value = "";
  $("reason-text").focus();
}

function closeDialogs() {
  $("reason-dialog").hidden = true;
  $("help").hidden = true;
}

async function reject(reason) {
  closeDialogs();
  await decide("rejected", { reason });
}

async function bulk(status) {
  const f = filterParams();
  const label = status === "accepted" ? "Accept" : "Reject";
  if (!confirm(`${label} every pending record of the current filter?`)) return;
  const { status: code, data } = await api("bulk", { status, filter: f, reason: "bulk " + status });
  if (code !== 200) { toast(data.error || "failed", "error"); return; }
  toast(`${data.decided} records ${status}`, "ok");
  await refreshState();
  if (state.record) show((await api(`record/${encodeURIComponent(state.record.key)}`)).data);
}

function onKey(event) {
  const dialogOpen = !$("reason-dialog").hidden;
  if (event.key === "Escape") {
    if (dialogOpen || !$("help").hidden) { closeDialogs(); return; }
    if (state.editing) { leaveEdit(); return; }
  }
  if (dialogOpen) {
    if (event.target === $("reason-text") && event.key === "Enter") { event.preventDefault(); reject($("reason-text").value.trim() || null); return; }
    if ($("reason-text").value === "" && /^[1-4]$/.test(event.key)) {
      event.preventDefault();
      reject(document.querySelector(`.presets button:nth-child(${event.key})`).dataset.reason);
    }
    return;
  }
  if (state.editing) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); checkOrSave(); }
    if (event.key === "j" && (event.ctrlKey || event.metaKey) && state.editing === "turns") {
      event.preventDefault();
      const text = editedText();
      editJSON(text);
    }
    return;
  }
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName);
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    a: () => decide("accepted"), r: openReject, e: enterEdit, u: undo,
    j: () => go(1), k: () => go(-1), ArrowRight: () => go(1), ArrowLeft: () => go(-1),
    p: () => { $("f-status").value = $("f-status").value === "pending" ? "" : "pending"; go(1, null); },
    "?": () => { $("help").hidden = !$("help").hidden; },
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
}

function wire() {
  document.addEventListener("keydown", onKey);
  $("btn-accept").onclick = () => decide("accepted");
  $("btn-reject").onclick = openReject;
  $("btn-edit").onclick = enterEdit;
  $("btn-undo").onclick = undo;
  $("btn-next").onclick = () => go(1);
  $("btn-prev").onclick = () => go(-1);
  $("help-button").onclick = () => { $("help").hidden = !$("help").hidden; };
  $("bulk-accept").onclick = () => bulk("accepted");
  $("bulk-reject").onclick = () => bulk("rejected");
  for (const b of document.querySelectorAll(".presets button")) b.onclick = () => reject(b.dataset.reason);
  for (const id of ["f-status", "f-rule", "f-verdict", "f-risk"]) {
    $(id).addEventListener("change", () => { $(id).blur(); go(1, null); });
  }
  for (const d of document.querySelectorAll(".dialog")) d.addEventListener("click", (e) => { if (e.target === d) closeDialogs(); });
}

wire();
refreshState().then(() => go(1, null));
