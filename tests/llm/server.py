"""The real OpenAI-compatible server the LLM tests run against: llama.cpp's server (xllamacpp, in the
test extra) with SmolLM2-135M-Instruct, started once per test session by the project's own command
(`python -m ftdata.llm.local`) on a free loopback port, and stopped at the end."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ftdata.errors import InputError
from ftdata.llm.local import MODEL_NAME, fetch_model

STARTUP_SECONDS = 120  # loading takes ~1.5 s when the machine is quiet; far longer when it is shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llm_server():
    """(base URL with /v1, model name) of a running local server; skips only if the model cannot be had."""
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        pytest.skip('xllamacpp is not installed: pip install -e ".[test]"')
    try:
        model = fetch_model()
    except InputError as e:
        pytest.skip(f"the test model cannot be obtained: {e}")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "ftdata.llm.local", "--port", str(port), "--model", str(model)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/v1/models", timeout=5).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local LLM server did not start (exit {process.poll()})") from None
                time.sleep(0.2)
        yield base + "/v1", MODEL_NAME
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
