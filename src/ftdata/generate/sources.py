"""What generation starts from: prompts (and their system prompt and answer, when they have them), read
from any format `ftdata check` reads, or from `{"prompt": ...}` lines."""

from dataclasses import dataclass
from pathlib import Path

from ..config import Config, Policy
from ..errors import UsageError
from ..stages.base import Context, InputFile
from ..stages.parse import ParseStage
from ..stages.read import ReadStage, check_readable
from ..stages.schema import SchemaStage
from ..targets import load_target


@dataclass(frozen=True)
class Source:
    prompt: str
    system: str = ""
    answer: str = ""
    ref: str = ""  # file:line, for provenance


def read_sources(path: str, skipped: list[str] | None = None) -> list[Source]:
    """Every record of `path` with a user prompt, in file order; a record without one is skipped, and
    named (`file:line: why`) in `skipped`."""
    check_readable(path)
    config = Config(select=["F", "S"])  # the parse and schema stages make the conversation, as in convert
    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[InputFile(path)])
    sources = []
    for example in SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(ctx.inputs))):
        ref = f"{Path(path).name}:{example.line}"
        data = example.data if isinstance(example.data, dict) else {}
        if example.messages is None or not example.is_chat:
            if isinstance(data.get("prompt"), str) and data["prompt"].strip():  # a bare prompt line
                sources.append(Source(data["prompt"].strip(), str(data.get("system") or ""), "", ref))
            elif skipped is not None:
                errors = [f"{f.code} {f.message}" for f in example.findings if f.severity == "error"]
                skipped.append(f"{ref}: {errors[0] if errors else 'no prompt (a plain text or empty prompt)'}")
            continue
        prompt = example.prompt()
        users = [m.content for m in prompt if m.role == "user" and m.content.strip()]
        if not users:
            if skipped is not None:
                skipped.append(f"{ref}: no user turn with text")
            continue
        system = next((m.content for m in prompt if m.role == "system"), "")
        answer = "\n".join(m.content for m in example.answer() if m.role == "assistant")
        sources.append(Source(users[-1], system, answer, ref))
    if not sources:
        raise UsageError(f"{path}: no record with a user prompt (expected {{\"prompt\": ...}} lines or chat records)")
    return sources
