"""Leftovers of the pipeline that built a dataset: unfilled template variables and double-escaped newlines.

Both are easy to confuse with code, which legitimately holds `{{ name }}` (Jinja, Handlebars, Vue) and
"\\n" (string literals): code fences, inline code and code-like texts are left out.
"""

import re

from .shape import looks_like_code

# {{name}}, {{ user.name }}, {{CONTENT_EXACT}}; single braces only as {UPPER_SNAKE} (Python's "{name}" and
# JSON's {"a": 1} are too common in answers to call a lone {name} a leftover).
_DOUBLE = re.compile(r"\{\{\s*[A-Za-z_][\w.-]{0,60}\s*\}\}")
_SINGLE = re.compile(r"(?<![{\\$\w])\{[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\}(?!\})")
_CODE_SPAN = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.S)
# A record about templates may show variables on purpose.
_ABOUT_TEMPLATES = re.compile(r"\b(?:templat\w*|jinja\w*|handlebars|mustache|liquid|placeholders?|variables?|"
                              r"angular|vue|django|ansible|helm|f-strings?|format strings?)\b|模板|占位符|变量", re.I)


def template_variable(text: str, context: str = "") -> str | None:
    """An unfilled `{{variable}}` (or `{UPPER_SNAKE}`) in prose, unless the record is about templates."""
    if "{" not in text:
        return None
    prose = _CODE_SPAN.sub(" ", text) if "`" in text else text
    match = _DOUBLE.search(prose) or _SINGLE.search(prose)
    if match is None or _ABOUT_TEMPLATES.search(context) or looks_like_code(_SINGLE.sub("x", _DOUBLE.sub("x", prose))):
        return None
    return f"text holds the unfilled template variable {match.group()!r}"


# A backslash-n that is not one of LaTeX's \n... commands (\nabla, \neq, \nu, \not).
_LITERAL_NEWLINE = re.compile(r"\\n(?!(?:abla|eq|eg|u|i|ot|ewline|ewcommand|olimits|ormalsize|onumber|exists|leq|geq|"
                              r"mid|subseteq|parallel|cong|sim|leftarrow|rightarrow)\b)")
_QUOTED_ESCAPE = re.compile(r"([\"'])[^\"'\n]{0,80}\\n[^\"'\n]{0,80}\1")  # print("a\nb") in prose
_MATH = re.compile(r"\$|\\[(\[]|\\begin|\\frac")


def escaped_newlines(text: str) -> bool:
    """Text whose line breaks are written as a literal backslash-n (escaped twice on the way in): at least
    two of them in prose, more than its real line breaks."""
    if "\\n" not in text:
        return False
    prose = _CODE_SPAN.sub(" ", text) if "`" in text else text
    prose = _QUOTED_ESCAPE.sub(" ", prose)
    literal = len(_LITERAL_NEWLINE.findall(prose))
    return literal >= 2 and literal > prose.count("\n") and not looks_like_code(prose) and not _MATH.search(prose)
