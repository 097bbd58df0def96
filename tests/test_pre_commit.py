"""A real `pre-commit` run of this repository's hook manifest against a temporary git repository."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOOD = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}\n'


@pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None, reason="pre-commit or git missing")
def test_hook_blocks_a_bad_dataset_and_passes_a_good_one(tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           # the hook's environment reuses the installed dependencies instead of downloading them again
           "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1"}
    git = lambda *a: subprocess.run(["git", *a], cwd=work, env=env, capture_output=True, text=True, check=True)
    git("init", "-q")
    (work / "good.jsonl").write_text(GOOD)
    (work / "bad.jsonl").write_text(GOOD + "not json\n")
    (work / "notes.txt").write_text("not a dataset\n")
    git("add", ".")

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pre-commit", "try-repo", str(REPO), "ftdata-check", "--files", *files],
                              cwd=work, env=env, capture_output=True, text=True, timeout=600)

    passed = try_repo("good.jsonl", "notes.txt")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    failed = try_repo("good.jsonl", "bad.jsonl")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "F001" in failed.stdout and "bad.jsonl:2" in failed.stdout
