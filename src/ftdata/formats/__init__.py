"""Dataset formats: detection, conversion to the canonical `Example`, and back.

Each format is a `Format` object in one of this package's modules. Detection tries them in
`DETECTION_ORDER`: the most specific key signature first (a preference pair before a chat, KTO before
prompt/completion, Cohere's roles and functionary's conventions before OpenAI's). Layouts recognised but
not read are in `layouts`.
"""

from collections.abc import Iterable

from ..errors import UsageError
from ..records import Example
from .base import Format
from .alpaca import ALPACA
from .cohere import COHERE_CHAT
from .functionary import FUNCTIONARY
from .gemini import GEMINI, VERTEX_LEGACY
from .openai import OPENAI_CHAT, OPENAI_PREFERENCE
from .paired import STACK_EXCHANGE_PAIRED
from .sharegpt import SHAREGPT, SHAREGPT_PREFERENCE
from .toolbench import TOOLBENCH
from .trl import KTO, PROMPT_COMPLETION, TEXT, TRL_IMPLICIT_PREFERENCE, TRL_PREFERENCE

DETECTION_ORDER: tuple[Format, ...] = (
    OPENAI_PREFERENCE,
    SHAREGPT_PREFERENCE,
    TRL_PREFERENCE,
    TRL_IMPLICIT_PREFERENCE,
    STACK_EXCHANGE_PAIRED,
    COHERE_CHAT,
    FUNCTIONARY,
    OPENAI_CHAT,
    SHAREGPT,
    GEMINI,
    VERTEX_LEGACY,
    ALPACA,
    KTO,
    PROMPT_COMPLETION,
    TOOLBENCH,
    TEXT,
)
FORMATS = {f.name: f for f in DETECTION_ORDER}
_SIGNATURES = tuple((frozenset(f.keys), f) for f in DETECTION_ORDER)


def detect(data: dict) -> Format | None:
    keys = data.keys()
    for signature, fmt in _SIGNATURES:
        if signature <= keys and (fmt.match is None or fmt.match(data)):
            return fmt
    return None


def get(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None


def signatures() -> Iterable[str]:
    """How each format is recognised, for messages about unrecognised records."""
    return (f"{' + '.join(f.keys)} ({f.name})" for f in DETECTION_ORDER)


__all__ = ["DETECTION_ORDER", "FORMATS", "Format", "Example", "detect", "get", "signatures"]
