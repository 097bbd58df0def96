"""Fixtures for the review tests: a queue built from a small support-chat file, and a live server.

The server is the real `ftdata review serve` in a child process, started and stopped here."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SUPPORT = DATA / "support.jsonl"  # 12 clean chats, 5 defects, a hostile record, a tool call, an image


@pytest.fixture
def support(tmp_path) -> Path:
    """A copy of the fixture, so that tests may change it."""
    path = tmp_path / "support.jsonl"
    shutil.copy(SUPPORT, path)
    return path


@pytest.fixture
def queued(tmp_path, support) -> Path:
    from ftdata.review.queue import build_queue

    db = tmp_path / "review.sqlite"
    build_queue(str(support), db, fraction=0.5, audit=0.3, seed=1)
    return db


class Server:
    def __init__(self, db: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ftdata", "review", "serve", "--db", str(db), "--reviewer", "tester"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        seen = []
        for line in self.process.stdout:  # warnings may come before the URL
            seen.append(line)
            match = re.search(r"(http://127\.0\.0\.1:(\d+)/[A-Za-z0-9_-]+/)", line)
            if match:
                break
        else:
            self.stop()
            raise RuntimeError(f"the server did not start: {''.join(seen)}")
        self.url, self.port = match.group(1), int(match.group(2))
        _wait_until_serving(self.url)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def _wait_until_serving(url: str) -> None:
    """The URL is printed just before uvicorn accepts; poll until it answers (no fixed sleeps)."""
    import urllib.request

    for _ in range(600):
        try:
            urllib.request.urlopen(url + "api/state", timeout=5).read()
            return
        except OSError:
            import time

            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


@pytest.fixture
def server(queued):
    s = Server(queued)
    yield s
    s.stop()
