import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    """The real datasets some tests read: $FTDATA_SHARED_DATA, else shared/data beside the checkout, or
    beside the main checkout when this one is a git worktree (which may live anywhere)."""
    if os.environ.get("FTDATA_SHARED_DATA"):
        return Path(os.environ["FTDATA_SHARED_DATA"])
    checkouts = [REPO]
    try:
        common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        checkouts.append((REPO / common).resolve().parent)  # the main checkout's .git, relative or absolute
    except (OSError, subprocess.CalledProcessError):
        pass  # no git, or not a git checkout (an sdist)
    return next((c.parent / "shared" / "data" for c in checkouts if (c.parent / "shared" / "data").is_dir()), None)


SHARED_DATA = _shared_data()


@pytest.fixture
def shared_data() -> Path:
    if SHARED_DATA is None or not SHARED_DATA.is_dir():
        pytest.skip("shared/data is not present (beside the checkout, or set FTDATA_SHARED_DATA)")
    return SHARED_DATA


from llm.server import llm_server  # noqa: E402,F401  (the local LLM server, session-scoped, for tests/llm and tests/generate)
