"""The review page in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Each test starts `ftdata review serve` itself (the `server` fixture) and works the page with the keyboard
as a reviewer would. Skips, saying why, when chromium or playwright is missing."""

import json
import os
from pathlib import Path

import pytest

from ftdata.review.export import export
from ftdata.review.store import Store

CHROMIUM = os.environ.get("FTDATA_CHROMIUM", "/usr/lib/chromium/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium, "
                "or set FTDATA_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    p = context.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.goto(server.url)
    p.wait_for_selector(".msg")
    yield p
    context.close()


def _current(page) -> dict:
    return page.evaluate("() => ({rank: state.record.rank, key: state.record.key, status: state.record.status})")


def _wait_rank(page, rank: int) -> None:
    page.wait_for_function(f"() => state.record && state.record.rank === {rank} && !state.busy")


def test_keyboard_only_review_of_a_queue(page, queued):
    store = Store(queued)
    total = store.progress()["queued"]
    keys = []
    for i in range(total):
        _wait_rank(page, i)
        keys.append(_current(page)["key"])
        if i % 3 == 2:
            page.keyboard.press("r")
            page.wait_for_selector("#reason-dialog:not([hidden])")
            page.keyboard.press("2")  # a preset reason: unhelpful
        else:
            page.keyboard.press("a")
        if i < total - 1:
            _wait_rank(page, i + 1)
    page.wait_for_function(f"() => document.getElementById('progress-text').textContent.startsWith('{total} / {total}')")
    # every audit record is decided: the estimate of the rest, and the judge's agreement with people
    assert page.inner_text("#audit").startswith("rest: ") and "95% CI" in page.inner_text("#audit")
    assert page.inner_text("#agreement").startswith("judge agreed on ")
    statuses = {k: store.record(k)["status"] for k in keys}
    assert list(statuses.values()).count("rejected") == total // 3
    assert store.record(keys[2])["reason"] == "unhelpful" and store.record(keys[2])["reviewer"] == "tester"
    # undo the last decision, then go back one record with K
    page.keyboard.press("u")
    page.wait_for_function("() => state.record && state.record.status === 'pending'")
    assert store.record(keys[-1])["status"] == "pending"
    page.keyboard.press("k")
    _wait_rank(page, total - 2)
    # the pending-only toggle lands on the one record left
    page.keyboard.press("p")
    page.wait_for_function(f"() => state.record && state.record.key === {json.dumps(keys[-1])}")
    assert not page.errors


def _edit(page, text: str) -> None:
    """Edit the record as JSON: E edits the turns in place, Ctrl+J switches to the whole JSON."""
    page.keyboard.press("e")
    page.wait_for_selector("#conversation textarea.turn-edit")
    page.keyboard.press("Control+j")
    page.wait_for_selector("#editor:not([hidden])")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Control+Enter")


def test_edit_that_breaks_the_json_is_refused(page, queued):
    key = _current(page)["key"]
    _edit(page, '{"messages": [{"role": "user", "content": "hi"},')
    page.wait_for_selector(".edit-result .banner.error")
    assert "Refused" in page.inner_text(".edit-result")
    assert "not valid JSON" in page.inner_text(".edit-result")
    page.keyboard.press("Control+Enter")  # still refused: nothing is saved
    page.wait_for_timeout(0)
    # valid JSON that breaks the format is refused too, with the rule that breaks
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps({"messages": [{"role": "assistant", "content": "no question"}]}))
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelector('.edit-result').textContent.includes('P007')")
    assert Store(queued).record(key)["status"] == "pending"
    page.keyboard.press("Escape")
    page.wait_for_selector("#editor", state="hidden")
    assert not page.errors


def test_edit_saved_and_exported(page, queued, tmp_path):
    record = page.evaluate("() => state.record")
    fixed = json.loads(record["text"])
    fixed["messages"][2]["content"] = "Open Billing > Plan and choose Upgrade. The new plan starts at once."
    _edit(page, json.dumps(fixed, indent=2))
    page.wait_for_selector(".edit-result .diff")
    inserted = page.inner_text(".edit-result .diff ins")
    assert "Upgrade." in inserted
    page.keyboard.press("Control+Enter")  # the checked text unchanged: save it
    page.wait_for_function(f"() => state.record && state.record.key !== {json.dumps(record['key'])}")
    row = Store(queued).record(record["key"])
    assert row["status"] == "edited" and json.loads(row["edited"]) == fixed
    out = tmp_path / "reviewed.jsonl"
    export(queued, out)
    assert fixed in [json.loads(line) for line in out.read_text().splitlines()]
    assert not page.errors


def test_turn_edited_in_place(page, queued, tmp_path):
    record = page.evaluate("() => state.record")
    page.keyboard.press("e")
    page.wait_for_selector("#conversation textarea.turn-edit")
    assert page.evaluate("() => document.activeElement.classList.contains('turn-edit')")  # the last turn has focus
    page.keyboard.insert_text("Open Billing > Plan and choose Upgrade.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".edit-result .diff ins")
    assert page.inner_text(".edit-result .diff ins") == '"Open Billing > Plan and choose Upgrade."'
    page.keyboard.press("Control+Enter")
    page.wait_for_function(f"() => state.record && state.record.key !== {json.dumps(record['key'])}")
    edited = json.loads(Store(queued).record(record["key"])["edited"])
    expected = json.loads(record["text"])
    expected["messages"][2]["content"] = "Open Billing > Plan and choose Upgrade."
    assert edited == expected
    assert not page.errors


def test_hostile_record_is_inert(page, queued):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = next(r for r in Store(queued).present() if "<script>" in r["original"])
    page.evaluate(f"async () => show((await api('record/' + encodeURIComponent({json.dumps(hostile['key'])}))).data)")
    page.wait_for_function("() => document.querySelector('#conversation').textContent.includes('__pwned')")
    page.wait_for_timeout(300)  # give any injected handler (onerror) its chance to run
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#conversation script, #conversation img[src='x'], #conversation a, #conversation b").count() == 0
    assert page.locator("#judge img").count() == 0
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#conversation")
    assert '<img src=x onerror="window.__pwned=4">' in page.inner_text("#judge")
    assert page.locator("body").inner_text() != "owned" and not dialogs and not page.errors


def test_two_tabs_editing_the_same_record(browser, server, queued):
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    for p in (first, second):
        p.goto(server.url)
        p.wait_for_selector(".msg")
    key = _current(first)["key"]
    assert _current(second)["key"] == key
    record = first.evaluate("() => state.record")
    fixed = json.loads(record["text"])
    fixed["messages"][2]["content"] = "Saved by the first tab."
    _edit(first, json.dumps(fixed))
    first.wait_for_selector(".edit-result .diff")
    first.keyboard.press("Control+Enter")
    first.wait_for_function(f"() => state.record && state.record.key !== {json.dumps(key)}")
    # the second tab still shows version 0; its save must not overwrite the first tab's edit
    fixed["messages"][2]["content"] = "Saved by the second tab."
    _edit(second, json.dumps(fixed))
    second.wait_for_selector(".edit-result .diff")
    second.keyboard.press("Control+Enter")
    second.wait_for_function("() => document.getElementById('toast').textContent.includes('changed elsewhere')")
    row = Store(queued).record(key)
    assert json.loads(row["edited"])["messages"][2]["content"] == "Saved by the first tab."
    # the second tab reloaded the record: it now shows the first tab's edit and version
    second.wait_for_function("() => state.record.status === 'edited' && state.record.version === 1")
    assert "Saved by the first tab." in second.inner_text("#conversation")
    context.close()


@pytest.mark.skipif(not os.environ.get("FTDATA_SCREENSHOTS"), reason="set FTDATA_SCREENSHOTS=1 to refresh docs/review-*.png")
def test_screenshots_for_docs(page):
    docs = Path(__file__).resolve().parents[2] / "docs"
    page.screenshot(path=str(docs / "review-queue.png"))
    page.keyboard.press("e")
    page.wait_for_selector("#conversation textarea.turn-edit")
    page.keyboard.insert_text("Open Billing > Plan and choose Upgrade. The new plan starts at once.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".edit-result .diff")
    page.screenshot(path=str(docs / "review-edit-diff.png"), full_page=True)
    page.keyboard.press("Escape")
