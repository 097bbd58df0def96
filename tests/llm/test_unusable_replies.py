"""A server that answers with something other than a chat completion (an HTML page from a proxy, a JSON
body without choices, an empty message) gives a failed result that says so: never a traceback, never a
cached reply that a later run would be handed again. A small stdlib server on 127.0.0.1 plays it: no real
server sends these on demand."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ftdata.llm import CallCache, LLMClient, Request

EMPTY = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
         "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None}}],
         "usage": {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7}}
BODIES = {"html": ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
          "nochoices": ("application/json", json.dumps({"choices": "nope"}).encode()),
          "empty": ("application/json", json.dumps(EMPTY).encode())}


@pytest.fixture
def server():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            kind, body = BODIES[self.server.reply]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("reply, says", [("html", "did not answer with a chat completion"),
                                         ("nochoices", "did not answer with a chat completion"),
                                         ("empty", "the reply is empty")])
def test_an_unusable_reply_is_a_failed_result_and_is_not_cached(server, tmp_path, reply, says):
    server.reply = reply
    cache = CallCache(tmp_path / "calls.sqlite")
    llm = LLMClient("m", base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="sk-test", cache=cache,
                    max_retries=0)
    [result] = llm.run([Request([{"role": "user", "content": "hi"}], {"max_tokens": 4}, "test@1", "0")])
    assert result.status == "failed" and says in result.error, result.error
    assert len(cache) == 0 and llm.stats.failed == 1
    if reply == "empty":  # paid for, so counted
        assert llm.stats.prompt_tokens == 7
