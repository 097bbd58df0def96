"""The review server's HTTP contract, without a browser: token, loopback, headers, conflicts, refusals."""

import json
import socket
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from ftdata.cli import main
from ftdata.review.store import Store


def _call(url, body=None):
    """(status, headers, JSON body or None) of a request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as e:
        response = e
    with response:
        headers, payload = {k.lower(): v for k, v in response.headers.items()}, response.read()
        status = response.status if hasattr(response, "status") else response.code
    is_json = headers.get("content-type", "").startswith("application/json")
    return status, headers, json.loads(payload) if is_json else None


def test_only_the_token_url_answers(server):
    root = f"http://127.0.0.1:{server.port}/"
    assert _call(server.url)[0] == 200
    assert _call(root)[0] == 404 and _call(root + "api/state")[0] == 404
    assert _call(root + "wrong-token/api/state")[0] == 404
    request = urllib.request.Request(server.url + "api/state", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=30)
    assert e.value.code == 400  # DNS rebinding: another host name is refused


def test_listens_on_loopback_only(server):
    addresses = [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    for address in {a for a in addresses if not a.startswith("127.")}:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, server.port)) != 0


def test_page_headers_forbid_foreign_script(server):
    status, headers, _ = _call(server.url)
    policy = headers["content-security-policy"]
    assert status == 200 and "script-src 'self'" in policy and "default-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"


def test_stale_version_gets_409_and_bad_edit_422(server, queued):
    _, _, record = _call(server.url + "api/next?rank=")
    decide = server.url + f"api/record/{record['key']}/decide"
    assert _call(decide, {"status": "accepted", "version": record["version"]})[0] == 200
    status, _, body = _call(decide, {"status": "rejected", "version": record["version"], "reason": "late"})
    assert status == 409 and "changed elsewhere" in body["error"]
    status, _, body = _call(decide, {"status": "edited", "version": record["version"] + 1, "text": "{not json"})
    assert status == 422 and body["findings"][0]["code"] == "F001"
    assert Store(queued).record(record["key"])["status"] == "accepted"
    status, _, body = _call(decide, {"status": "maybe", "version": 1})
    assert status == 400 and "status" in body["error"]
    status, _, body = _call(server.url + "api/record/nope")
    assert status == 400 and "no record 'nope'" in body["error"]


def test_preview_diff_is_word_level(server):
    _, _, record = _call(server.url + "api/next?rank=")
    edited = record["text"].replace('"How do I upgrade my plan?"', '"How do I downgrade my plan?"')
    status, _, body = _call(server.url + f"api/record/{record['key']}/preview", {"text": edited})
    assert status == 200
    changes = [run for run in body["diff"] if run[0] != "="]
    assert changes == [["-", "upgrade"], ["+", "downgrade"]]


def test_cli_queue_and_export(support, tmp_path):
    db, out = tmp_path / "r.sqlite", tmp_path / "out.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["review", "queue", str(support), "--db", str(db), "--fraction", "0.3"])
    assert result.exit_code == 0 and "20 records, 20 with judge scores" in result.output
    result = runner.invoke(main, ["review", "export", "--db", str(db), "--out", str(out)])
    # nothing decided yet: the export holds the records check rejects, says which, and exits 1
    assert result.exit_code == 1 and "20 records written" in result.output and "no estimate" in result.output
    assert "still have errors that check rejects" in result.output
    assert len(out.read_text().splitlines()) == 20
    again = runner.invoke(main, ["review", "export", "--db", str(db), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    missing = runner.invoke(main, ["review", "serve", "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no review database here" in missing.output
    absent = runner.invoke(main, ["review", "queue", str(tmp_path / "none.jsonl"), "--db", str(db)])
    assert absent.exit_code == 2 and "Traceback" not in absent.output
