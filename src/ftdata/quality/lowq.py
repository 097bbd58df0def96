"""Record-level low-quality detectors (secrets and personal data are in `private`). Each takes the record's text and returns a message or None.

Detectors that search long texts take an optional `search` (`native.Search`): the batch path passes one
that has searched the whole batch's texts in native code at once; alone, each searches with Python.

Thresholds were tuned on the labelled corpus of `benchmarks/bench_quality.py` (planted defects in
real Alpaca, FastChat and LLaMA-Factory records); the numbers are in benchmarks/results/quality.txt.
"""

import ast
import operator
import re

from . import phrases
from .native import Search, find
from .shape import FENCED_BLOCK, call_lines, looks_like_code

# "<noinput>" inside a longer text (the whole-text placeholder lists are in rules/phrases/quality.toml).
_PLACEHOLDER_TOKEN = re.compile(r"<\s*no[\s_-]*(?:output|input)\s*>", re.I)

# Prompt-format markers that belong to a training template, not to an answer.
_SPECIAL_TOKEN = re.compile(
    r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|user|assistant|system)\|>|\[/?INST\]|<</?SYS>>"
    r"|^\s*#{2,}\s*(?:instruction|input|response)\s*:?\s*$",
    re.I | re.M,
)
_SPECIAL_KEYS = ("<|", "inst]", "<<", "##")  # each marker above contains one
_SECTION_MARKER = re.compile(r"^\s*(?:instruction|input)\s*:\s*\S|^\s*(?:human|gpt)\s*:\s*\S", re.I | re.M)
# Prompts that ask for instructions, inputs or dialogues legitimately get such headings back.
_ASKS_FOR_MARKERS = re.compile(r"\b(?:instructions?|inputs?|prompts?|conversations?|dialogues?|dialogs?|chat\w*|scripts?|"
                               r"transcripts?|interviews?|test cases?|pseudo-?code|tasks?)\b", re.I)

_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u017d\u017e]|â€[\u0080-\u00bf\u2018-\u203a\u0153\u2122]|Â[\u00a0-\u00bf]|ï»¿")
_BAD_CHARS = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\"'\]]+", re.I)
_NEUTRAL_HOST = re.compile(r"(?:^|\.)(?:example|localhost|json-schema|w3|schema|schemas|xmlsoap|yourdomain|yourwebsite|"
                           r"mywebsite|mysite|yoursite|domain|website|company|test)\.|^localhost$|^127\.|\.(?:test|example|invalid|local)$")
# Substrings that every match of the patterns above contains (lowercase): cheap tests that skip most texts.
_URL_KEYS = ("http", "www.")


def placeholder_output(answer: str) -> str | None:
    """Empty and whitespace-only outputs are the profile stage's P002 (empty-content); this is the rest."""
    stripped = answer.strip()
    if not stripped:
        return None
    if (len(stripped) <= 40 and phrases.pattern("placeholder-output").match(stripped)
            or len(stripped) < 40 and _PLACEHOLDER_TOKEN.search(stripped)):
        return f"output is a placeholder: {stripped[:40]!r}"
    return None


def placeholder_input(user: str) -> str | None:
    """A user turn whose input part only says there is none ("<noinput>", "No input.", "无")."""
    token = _PLACEHOLDER_TOKEN.search(user)
    if token and "input" in token.group().lower():
        return f"input contains the placeholder {token.group()!r}"
    paragraphs = [p.strip() for p in user.strip().split("\n\n") if p.strip()]
    if len(paragraphs) >= 2 and len(paragraphs[-1]) <= 40 and phrases.pattern("placeholder-input").match(paragraphs[-1]):
        return f"input is a placeholder: {paragraphs[-1][:40]!r}"
    return None


def _phrase(name: str, text: str, search: Search | None) -> re.Match | None:
    """A phrase of list `name` in text. No substring test skips texts first: a user may add a phrase to the
    list that no such test knows of."""
    return find(phrases.pattern(name), text, search)


# "the following text", "以下代码", or a prompt that ends on a colon: it points at an input of its own.
_POINTS_AT_INPUT = re.compile(r"\b(?:following|below|given|this|these|attached)\b|以下|下面|下列|如下|这篇|这段|[:：]\s*$", re.I)
_PROMISES_INPUT = re.compile(r"\bI(?:'ll| will| am going to)\b|\bif I (?:give|provide|send)|我会|我将|如果我(?:提供|给|发)", re.I)


def boilerplate(answer: str, has_tools: bool = False, prompt: str = "", search: Search | None = None) -> str | None:
    """Language-model boilerplate; canned refusals and short answers that ask for the input the prompt
    points at but never gave ("Translate the following:" and nothing), except where the record declares
    tools: there, declining what the tools cannot do ("I'm sorry, as an AI I can't order a pizza") is taught
    on purpose. A prompt that promises its text for later ("I will send you my essay") is answered rightly
    by asking for it."""
    match = _phrase("model-boilerplate", answer, search)
    if match is None and not has_tools:
        match = _phrase("refusal", answer, search)
        if (match is None and len(answer) < 200 and find(_POINTS_AT_INPUT, prompt, search)
                and not find(_PROMISES_INPUT, prompt, search)):
            match = _phrase("asks-for-input", answer, None)
            if match:
                return f"output asks for the input the prompt never gave: {match.group()!r}"
    return f"output contains model boilerplate or a refusal: {match.group()!r}" if match else None


def template_leak(prompt: str, answer: str, search: Search | None = None) -> str | None:
    if search is not None:
        match = search(_SPECIAL_TOKEN, answer)
    else:
        match = _SPECIAL_TOKEN.search(answer) if any(k in answer.lower() for k in _SPECIAL_KEYS) else None
    if match is None and ":" in answer:
        fenced = "```" in answer
        match = find(_SECTION_MARKER, FENCED_BLOCK.sub(" ", answer) if fenced else answer, None if fenced else search)
        # Not where the prompt asks for such headings, or names the word itself ("Classify: Human, Car").
        word = match.group().split(":")[0].strip().lower() if match else ""
        if match and (_ASKS_FOR_MARKERS.search(prompt) or re.search(rf"(?<![a-z]){word}(?![a-z])", prompt, re.I)):
            match = None
    return f"output contains a prompt-template marker: {match.group().strip()[:40]!r}" if match else None


def bad_characters(text: str, search: Search | None = None) -> str | None:
    match = find(_BAD_CHARS, text, search)
    if match:
        name = "replacement character U+FFFD" if match.group() == "\ufffd" else f"control character U+{ord(match.group()):04X}"
        return f"text contains a {name}"
    match = None if text.isascii() else _MOJIBAKE.search(text)
    if match:
        return f"text contains mojibake (UTF-8 read as Windows-1252): {match.group()!r}"
    return None


def echo(user: str, answer: str) -> str | None:
    """An output that only repeats the prompt."""
    if len(answer) > 2 * len(user) + 20:  # cannot be a copy of it
        return None
    user = user.strip()
    if " " not in user:  # a one-word command ('ls', ':%s/a/b') that a role-played terminal echoes
        return None
    a = _fold(answer)
    if len(a) < 8:
        return None
    if a == _fold(user) or a == _fold(user.split("\n\n", 1)[0]):
        return "output repeats the prompt word for word"
    return None


_NOT_WORD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def unprompted_link(prompt: str, answer: str) -> str | None:
    """Links in the output's prose that the prompt neither gave nor asked for: often invented. Links in code
    (an API endpoint, a script tag, a `git clone`), placeholder links (`https://api.example.com`,
    `https://wttr.in/[YOUR_LOCATION]`) and bare home pages (`https://nvd.nist.gov/`) are not."""
    lower = answer.lower()  # substring tests first: most outputs have neither a link nor an image name
    if "![" not in answer and not any(k in lower for k in _URL_KEYS):
        return None
    prose = _without_code(answer)
    image = _IMAGE_EMBED.search(prose) if "![" in prose else None
    urls = _URL.findall(prose) if image is None else []
    if not urls and not image:
        return None
    asked = phrases.pattern("link-requested").search(prompt)
    if image:  # an embedded picture passes only where the prompt gave it or asked for a link to a picture
        if image.group(1) in prompt or asked and _PICTURE_WORD.search(prompt):
            return None
        return f"output embeds an image link the prompt never gave: {image.group()[:60]!r}"
    if asked:
        return None
    prompt_lower = prompt.lower()
    for url in urls:
        host, _, path = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).partition("/")
        host = host.split(":")[0]
        name = host.rsplit(".", 2)[-2] if host.count(".") >= 1 else host
        if (host and path.strip("/") and not _NEUTRAL_HOST.search(host) and not _PLACEHOLDER_URL.search(url)
                and name not in prompt_lower):
            return f"output links to {url[:60]!r}, which the prompt neither gave nor asked for"
    return None


_PICTURE_WORD = re.compile(r"\b(?:images?|pictures?|photos?|svg|png|jpe?g|gif|logo|icon)\b|图片|图像|照片|图标", re.I)
_IMAGE_EMBED = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_PLACEHOLDER_URL = re.compile(r"your|\[|\{|\$|<|xxx|\.\.\.|…|example|placeholder|my-?(?:api|site|domain|app)", re.I)
_FENCE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.S)
_CODE_LINE = re.compile(r"^.*(?:\b(?:curl|wget|git clone|pip install|npm install)\s|^\s*(?:import|from)\s+\w|"
                        r"\b(?:fetch|require|get|post|urlopen|open)\(|<(?:script|img|a|link|iframe|source)\b|"
                        r"\w\s*=\s*[\"']?https?://|[;{}]\s*$).*$", re.M | re.I)


def _without_code(text: str) -> str:
    """The prose of a text: code fences, inline code and lines that read as code removed."""
    if "`" in text:
        text = _FENCE.sub(" ", text)
    return _CODE_LINE.sub(" ", text)


def unseen_reference(user: str, has_images: bool, search: Search | None = None) -> str | None:
    """A prompt that asks about a picture, recording or web page the model is never shown. A picture the
    prompt names or describes in words ("The Night Watch by Rembrandt") is seen well enough."""
    if has_images:
        return None
    media = _phrase("unseen-media", user, search)
    if media and not _described(user):
        return f"prompt refers to {media.group()!r}, but the record carries no such attachment"
    if search is not None:
        urls = _URL.findall(user) if search(_URL, user) else []
    else:
        urls = _URL.findall(user) if any(k in user.lower() for k in _URL_KEYS) else []
    if urls and phrases.pattern("unseen-link-task").search(user) and not phrases.pattern("code-task").search(user):
        if _size_in_words(_URL.sub("", user)) < 40:  # the page's text is not pasted in: the model never saw it
            return f"prompt asks about the content of {urls[0][:60]!r}, which the model cannot open"
    return None


_STAND_IN = re.compile(r"^\s*(?:[\[<(（【].*[\]>)）】]|!\[.*|\S*(?:https?://|www\.)\S*)\s*$", re.S)


def _described(user: str) -> bool:
    """The prompt has an input paragraph of words after its instruction, not a stand-in ("[Image of a
    painting]", a link or an image embed)."""
    paragraphs = [p for p in user.strip().split("\n\n") if p.strip()]
    return len(paragraphs) >= 2 and _size_in_words(paragraphs[-1]) >= 2 and not _STAND_IN.match(paragraphs[-1])


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _size_in_words(text: str) -> float:
    """Words, counting two CJK characters as one (those scripts put no spaces between words)."""
    if text.isascii():
        return len(text.split())
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk / 2


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_OPERAND = r"(?:\(\s*)?\d+(?:\.\d+)?(?:\s*\))?"
_EXPRESSION = re.compile(rf"{_OPERAND}(?:\s*(?:[-+*/×÷]|(?<=\s)x(?=\s))\s*{_OPERAND})+")
_BEFORE_OK = re.compile(r"(?:^|[^\d.)^\s+*/×÷-][ \t]*|[:=\"'\n])$")  # not '1 + 3 + ... + 15 + 17'
_AFTER_BAD = re.compile(r"[ \t]*(?:[\w^/:(+*×÷=%<>\[\\-]|[.,]\d|\.\s*\.)")  # nor '$(7+1)\times5$'
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+(?!\.\d))?")
_ASKS_TO_COMPUTE = re.compile(r"\b(?:calculate|compute|evaluate|what is|what's|solve|result of|sum of|product of|find)\b", re.I)

# What the batch path searches in native code, by the texts searched (see stages/quality.py).
ANSWER_PATTERNS = (_SPECIAL_TOKEN, _SECTION_MARKER)
MESSAGE_PATTERNS = (_BAD_CHARS,)
USER_PATTERNS = (_URL, _POINTS_AT_INPUT, _PROMISES_INPUT, _ASKS_TO_COMPUTE)
ANSWER_LISTS = ("model-boilerplate", "refusal")
USER_LISTS = ("unseen-media",)


def wrong_arithmetic(user: str, answer: str, search: Search | None = None) -> str | None:
    """A prompt with plain arithmetic ("What is 17 * 3?") whose output never states the right result."""
    if len(user) > 200 or not find(_ASKS_TO_COMPUTE, user, search) or looks_like_code(answer) or call_lines(answer):
        return None  # an answer in code ("print(4+1)") states no result
    user = user.replace("\u2212", "-")  # the minus sign
    match = next((m for m in _EXPRESSION.finditer(user) if _standalone(user, m)), None)
    if match is None:
        return None
    expression = match.group().strip()
    value = _evaluate(expression)
    numbers = [(_number(n), _tolerance(n, value or 0.0)) for n in _NUMBER.findall(answer)]
    if value is None or not numbers:
        return None
    if any(n is not None and abs(n - value) <= tolerance for n, tolerance in numbers):
        return None
    shown = f"{value:.6g}"
    return f"{expression} = {shown}, but the output never says {shown}"


def _standalone(text: str, match: re.Match) -> bool:
    """A whole expression: not part of a date, range, list, equation or longer formula."""
    expression = match.group()
    if not _BEFORE_OK.search(text[: match.start()]) or _AFTER_BAD.match(text[match.end():]):
        return False
    if re.search(r"\s-\d", expression) or expression.count("(") != expression.count(")"):
        return False
    operators = set(re.findall(r"[-+*/×÷]|(?<=\s)x(?=\s)", expression))
    return not (operators <= {"/"} or operators == {"-"} and " - " not in expression)


def _tolerance(token: str, value: float) -> float:
    """How far a stated number may be from the value: half a unit of its last decimal ('0.67' for 2/3)."""
    if "/" in token:
        return 1e-9
    decimals = len(token.split(".", 1)[1]) if "." in token else 0
    return max(0.5 * 10 ** -decimals if (decimals or value != int(value)) else 0.0, 1e-9 * abs(value))


def _number(token: str) -> float | None:
    token = token.replace(",", "")
    try:
        if "/" in token:
            top, bottom = token.split("/")
            return float(top) / float(bottom)
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def _evaluate(expression: str) -> float | None:
    source = expression.replace("×", "*").replace("÷", "/").replace(" x ", " * ")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        raise ValueError

    try:
        return value(tree.body)
    except (ValueError, ZeroDivisionError):
        return None
