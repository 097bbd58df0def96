"""The shape of an answer: cut off (Q004) or looping (Q005). Both must tell structure from defect: code,
lists, tables, poems and transcripts end and repeat in ways prose does not.

Thresholds were tuned on the labelled corpus of `benchmarks/bench_quality.py` and on the hand-reviewed
findings of `benchmarks/quality_real_files.py`.
"""

import re
import zlib
from collections import Counter

from . import phrases

_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d+[.)]|[a-z][.)])\s", re.I)
_EMPTY_ITEM = re.compile(r"^(?:[-*•+]|\d+[.)])$")
# A line of code ends on one of ;{}([ or starts with an assignment or a keyword. The line starts are found
# after a newline ("\n" + text): a pattern that opens on a literal is scanned for fast, `^` in multiline
# mode is tried at every character (three times slower on a 20 MB answer).
_CODE_ENDS = ";{}(["
_CODE_LINE_END = re.compile(r"[;{}(\[]\s*$", re.M)
_CODE_LINE_START = re.compile(r"\n\s*(?:[\w.]+\s*=\s*[\w.\[({'\"]|(?:SELECT|CREATE|INSERT|UPDATE|def|class|import|return|"
                              r"function|var|let|const|public|private|func|fn|#include)\b)", re.I)

_last_code: list = [None, False]  # (text, verdict): truncation and repetition both ask about the output in flight


def looks_like_code(text: str) -> bool:
    if _last_code[0] is not text:
        ends = any(c in text for c in _CODE_ENDS) and _CODE_LINE_END.search(text)  # substring tests skip most prose
        _last_code[:] = text, bool(ends or _CODE_LINE_START.search("\n" + text))
    return _last_code[1]


def call_lines(text: str) -> int:
    """Lines that are a function call (CALL_LINE); a text without "(" has none, and most have none."""
    return len(CALL_LINE.findall(text)) if "(" in text else 0


def truncated(answer: str, prompt: str = "") -> str | None:
    """Cut-off outputs: an odd number of code fences, JSON that stops open, a table's last row short of
    cells, a code block stopping on an unfinished statement, or prose that stops mid-sentence. An answer
    copied from the prompt (an extractive span: "the 1990s") ends where the question wanted it to."""
    text = answer.rstrip()
    if len(text) < 300 and text.strip() in prompt:
        return None
    if text.count("```") % 2 == 1:
        return "output has an unclosed code fence (```)"
    if text[:1] in "{[" and _open_brackets(text) > 0:
        return "output starts as JSON but its brackets are never closed"
    text = _ending(text)  # the rest judges the ending by the text before it: a huge answer is not read whole
    tail = text.rsplit("\n", 4)[-4:]  # the last lines are all most signals need
    last_line = tail[-1].strip()
    if _EMPTY_ITEM.match(last_line) and len(tail) > 1 and _LIST_ITEM.match(tail[-2]):
        return f"output ends with an empty list item {last_line!r}"
    if text[-1:] in _CLOSING:  # most outputs: nothing below fires on a closed sentence
        return None
    short_row = _short_table_row(tail)
    if short_row:
        return short_row
    if _UNFINISHED_STATEMENT.match(last_line) and looks_like_code(text) and _BLOCK_OPENER.search(text):
        return f"output stops inside a statement: …{last_line[-40:]!r}"
    words = last_line.split()
    if len(text) < 30 or len(words) < 2:
        return None
    last = words[-1]
    # A comma or a function word ends no sentence and no list item. In prose that ends its sentences with
    # punctuation, a line that stops on a lowercase word, or a last sentence of one or two words, is cut off
    # (a list item only when the items above it all end in punctuation: lists often go without). A bare
    # content word can also be how the answer ends things (_ends_its_own_way); a word that rarely ends a
    # sentence ('is', 'they') cannot, and counts in a short line too.
    in_list = bool(_LIST_ITEM.match(last_line))
    ends_open = (last[-1] in ",;(-–—=&" or _last_word_is("never-last-word", last) and (not in_list or len(words) >= 4)
                 or len(last) == 1 and last.islower() and last not in "ai" and not _FIELD_LINE.search(last_line))
    # ('two fallen l' was cut inside a word; 'Dependent variable: y' was not)
    ends_bare = not ends_open and len(words) >= 3 and (
        _LOWER_WORD.match(last) or _STUB_SENTENCE.search(text[-200:])
        or _WORD.match(last) and len(words) >= 6 and _SENTENCES.search(text) and not _ATTRIBUTION.search(last_line))
    if not (ends_open or ends_bare) or looks_like_code(text):
        return None
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    rare_last = _last_word_is("rarely-last-word", last)  # 'is', 'would', 'they', "today's": weighs more than 'aid'
    if _is_verse(lines) or _letters_share(text) < 0.5 or _LIST_ITEM.match(lines[-1]) and (
            ends_bare and not _short_last_item(lines, rare_last)
            or not last[-1].isalnum() and all(line[-1:] == last[-1] for line in lines if _LIST_ITEM.match(line))):
        return None  # a poem, Morse code, a last list item without a full stop, items that all end in "="
    if _VERSE_ASKED.search(prompt) and len(lines) <= 2 or len(lines) >= 2 and _VALEDICTION.match(lines[-2]) and len(words) <= 4:
        return None  # a line of a poem ends on a comma; a signature ('Best,' then 'ABC Ltd. Team') on a name
    if len(lines) >= 2 and _VALEDICTION.match(lines[0]) and _VALEDICTION.match(last_line):
        return None  # a letter from 'My dearest love,' to 'With heartfelt gratitude,' lacks only a name
    if ends_bare and (not rare_last and (_MAPPING.search(text) or _FIELD_LINE.search(last_line) or _ends_its_own_way(lines, prompt))
                      or not _looks_like_prose(lines, text, rare_last)):
        return None
    return f"output stops mid-sentence: …{last_line[-40:]!r}"


def _last_word_is(list_name: str, word: str) -> bool:
    """A lowercase last word that is one of a word list of rules/phrases/quality.toml."""
    return word.islower() and phrases.pattern(list_name).fullmatch(word) is not None


def _ends_its_own_way(lines: list[str], prompt: str) -> bool:
    """A bare ending on a content word that is how this answer ends things: other lines of it end bare too
    (a decision tree, notes), it closes an enumeration ('..., creative block, and competition'), or its last
    sentence, eight words or more, repeats the words that end a sentence of the prompt ('What would you have
    done if such AI pieces existed in your school' for '...existed in your school?')."""
    if any(len(line.split()) >= 4 and line[-1].isalpha() for line in lines[:-1]):
        return True
    if _ENUMERATION_END.search(lines[-1]):
        return True
    words = _PLAIN_WORD.findall(_SENTENCE_END.split(lines[-1])[-1])
    echo = r"\b" + r"\W+".join(map(re.escape, words[-3:])) + r"\s*(?:[.!?。！？]|$)"
    return len(words) >= 8 and re.search(echo, prompt, re.I | re.M) is not None


# ', X, and Y' with Y one or two lowercase words: the last item of a list ends the sentence
_ENUMERATION_END = re.compile(r",[^,]+, (?:and|or) [a-z][^\W\d_]{3,}(?: [a-z][^\W\d_]{2,})?$")
_PLAIN_WORD = re.compile(r"[^\W_]+")


_MAPPING = re.compile(r"→|->|=>")  # 'apples → oranges, grapes': pairs, not sentences
# 'Noun: cake', 'Home workout: pick a video', 'a | b', 'x² + y² = r²', '#hashtags': fields, not sentences
_FIELD_LINE = re.compile(r"^[\W_]*[\w' -]{1,25}:\s*\S+(?:\s+\S+){0,3}$|\s\|\s|=|#\w")
_VALEDICTION = re.compile(r"^[\w' -]{2,30},$")  # 'Best,', 'With heartfelt gratitude,'
_VERSE_ASKED = re.compile(r"\b(?:poems?|verses?|lyrics?|haikus?|rhym\w*|stanzas?|limericks?)\b|诗|歌词", re.I)


def _is_verse(lines: list[str]) -> bool:
    """Three or more short lines, none ending in punctuation: a poem or lyrics."""
    return len(lines) >= 3 and not any(line[-1] in ".,!?;:。，！？" or _LIST_ITEM.match(line) for line in lines) and \
        sum(len(line.split()) for line in lines) <= 12 * len(lines)


def _short_last_item(lines: list[str], stops_on_function_word: bool) -> bool:
    """A last list item under a third of the median length of the items right above it, or, where they all
    end in punctuation, under 60% of it or stopping on a word that rarely ends a sentence ('...their score
    for the turn is'): the list was cut inside it. (A last item of full length without a full stop is just
    a list.)"""
    items = []
    for line in reversed(lines[:-1]):  # the items of its own list: the list lines right above it
        if not _LIST_ITEM.match(line):
            break
        items.append(line)
    if not items:
        return False
    median = sorted(len(item) for item in items)[len(items) // 2]
    return len(lines[-1]) < median / 3 or (len(lines[-1]) < 0.6 * median or stops_on_function_word and len(items) >= 2) \
        and all(item[-1] in ".!?" for item in items)


def _letters_share(text: str) -> float:
    """Letters among the characters that are not spaces (counted by the regex engine, not a loop)."""
    visible = len(text) - sum(len(run) for run in _SPACES.findall(text))
    return sum(len(run) for run in _LETTERS.findall(text)) / max(1, visible)


_SPACES = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]+")


_CLOSING = frozenset(".!?:\"'”’»")
_LOWER_WORD = re.compile(r"[^\W\d_A-Z]+(?:['’-][^\W\d_]+)*$")  # 'round', "it's", 'low-level'; not 'Paris', '#AI', '42'
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*$")
_SENTENCES = re.compile(r"[a-z][.!?]\s+[A-Z].*[a-z][.!?]\s+[A-Z]", re.S)  # at least three sentences
_ATTRIBUTION = re.compile(r"\s[-–—―]\s")  # '"..." - William Blake'
_STUB_SENTENCE = re.compile(r"[a-z][.!?]\s+[A-Z][^\W\d_]*(?: [^\W\d_]+)?$")  # '... their best. The'
_UNFINISHED_STATEMENT = re.compile(r"\s*(?:if|elif|for|while|def|class|with)\b(?!.*:\s*$)")
_BLOCK_OPENER = re.compile(r"^\s*(?:def|class|if|for|while|with)\b.*:\s*$", re.M)


def _short_table_row(lines: list[str]) -> str | None:
    """The last row of a table (pipes or tabs) with fewer cells than every row above it."""
    rows = [line.strip() for line in lines[-4:]]
    if len(rows) < 3:
        return None
    *above, last = rows
    if all(r.startswith("|") and r.endswith("|") for r in above) and last.startswith("|") and not last.endswith("|"):
        return f"output stops inside a table row: …{last[-40:]!r}"
    tabs = {r.count("\t") for r in above}
    if len(tabs) == 1 and min(tabs) >= 1 and last.count("\t") < min(tabs):
        return f"output's last table row is missing cells: …{last[-40:]!r}"
    return None


_INLINE_ITEM = re.compile(r"[*•]\s?[^\W\d_]|(?:^|[\w:.)]|\s)-\s[^\W\d_]")  # ':* solar* wind', 'math:- Number- Pie
_SENTENCE_END = re.compile(r"[.!?。！？](?:[\"')\]]|\s|$)")
_WORD_RUN = re.compile(r"^(?:[^\s,]+, ){3,}[^\s,]+$")


def _looks_like_prose(lines: list[str], text: str, rare_last: bool = False) -> bool:
    """Mostly sentences ending in punctuation, so a bare ending stands out (poems, lists and code do not). A
    letter's salutation and closing lines are not sentences; one line is prose from 12 words, or from 6 when
    it stops on a word that rarely ends a sentence."""
    lines = [line.strip() for line in lines if line.strip() and not _VALEDICTION.match(line.strip())] or [""]
    if text.count("/ ") >= 2:  # verse written on one line: 'Pale moonlight falls / On a lake'
        return False
    if len(lines) > 1 and sum(1 for line in lines[:-1] if line[-1] in ".!?:") < (len(lines) - 1) / 2:
        return False
    if len(lines) == 1 and sum(w[:1].isupper() for w in text.split()) > len(text.split()) / 2:
        return False  # a Title Case headline, not a sentence
    if _WORD_RUN.match(lines[-1]):
        return False  # 'an, apple, breakfast, ate, for' lists words
    if len(_INLINE_ITEM.findall(lines[-1])) >= 2:
        return False  # 'These include: - Difficulty with cues - Challenges with attention' runs a list on one line
    words = len(text.split())
    if words >= 60 and len(_SENTENCE_END.findall(text)) < words / 60:
        return False  # a transcript or a script with next to no sentence punctuation ends bare all the time
    return bool(re.search(r"[.!?][\"')\]]?\s+[A-Z0-9\"']", text)) or len(lines) == 1 and len(text.split()) >= (6 if rare_last else 12)


def _open_brackets(text: str) -> int:
    """Brackets opened minus brackets closed outside JSON strings (a string never closed runs to the end)."""
    bare = _JSON_STRING.sub("", text).split('"', 1)[0]
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


_TRUNCATION_WINDOW = 20_000  # characters of an answer's end that truncation reads
_REPEAT_WINDOW = 100_000  # characters of an answer's end that repetition reads


def _ending(text: str, size: int = _TRUNCATION_WINDOW) -> str:
    """The last `size` characters of text from a line start (or a word start) on; text itself if shorter.
    Reading only the end keeps the detectors linear and fast on a 20 MB answer. A code fence opened
    before the cut is opened again, so that what is code stays code."""
    if len(text) <= size:
        return text
    start = len(text) - size
    line = text.find("\n", start, start + size // 2)
    start = line + 1 if line >= 0 else max(start, text.find(" ", start, start + 200) + 1)
    return ("```\n" if text.count("```", 0, start) % 2 else "") + text[start:]


_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|\d")  # words of two or more characters, and numbers ('Row 1', 'Row 2' differ)


def repetitive(answer: str, min_words: int = 30, max_dup_share: float = 0.4, min_compression: float = 0.12,
               min_loops: int = 4) -> str | None:
    """Degenerate loops: a phrase said `min_loops` times in a row, most word 5-grams repeated, or text that
    compresses far better than language does. Tokens without two letters or digits (table borders, single
    notes, bare numbers) are ignored. Repetition that is structure is not a loop: code and markup, a list
    or table whose lines all differ once their numbering is set aside ("Step 1: Compare 3 with 8", "Row 2"),
    and a "loop" of one word or of numbers ("la la la la", "11 * 941")."""
    answer = _ending(answer, _REPEAT_WINDOW)  # a model that loops goes on looping to the end of its output
    if "```" in answer:
        answer = FENCED_BLOCK.sub(" ", answer)
    if looks_like_code(answer) or _is_markup(answer) or call_lines(answer) >= 3:
        return None
    words = _TOKEN.findall(answer.casefold())
    # Each word that repeats an earlier one is at most one repeated n-gram or loop position: too few
    # repeats rule both out without counting n-grams.
    repeats = len(words) - len(set(words))
    loop = _tandem_repeat(words, min_loops) if repeats >= 2 * (min_loops - 1) else None
    if loop:
        return f"output says {loop!r} {min_loops} or more times in a row"
    if len(words) >= min_words and repeats > max_dup_share * (len(words) - 4) and not _distinct_lines(answer):
        grams = Counter(zip(words, words[1:], words[2:], words[3:], words[4:]))
        repeated = sum(c - 1 for c in grams.values() if c > 1)
        share = repeated / max(1, len(words) - 4)
        if share > max_dup_share and _two_words(grams.most_common(1)[0][0]):
            top = " ".join(grams.most_common(1)[0][0])
            return f"{share:.0%} of the output's word 5-grams repeat (most often: {top!r})"
    data = answer.encode("utf-8", "surrogatepass")
    if len(data) >= 300:
        ratio = len(zlib.compress(data, 6)) / len(data)
        if ratio < min_compression:
            return f"output compresses to {ratio:.0%} of its size: a phrase repeats over and over"
    return None


FENCED_BLOCK = re.compile(r"```.*?(?:```|$)", re.S)
CALL_LINE = re.compile(r"^\s*[\w.]+\(.*\)\s*;?\s*$", re.M)  # print("1^2: " + str(1**2))
_TAG = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>")
_NUMBERING = re.compile(r"^[\W_]*(?:\d+|[A-Za-z])[.):\]]\s+")  # "1. ", "- b) ", "(3) "


def _is_markup(text: str) -> bool:
    """HTML or XML: its tags repeat by design."""
    return "<" in text and len(_TAG.findall(text)) >= 4


def _distinct_lines(text: str) -> bool:
    """A list or table of four or more lines of four or more words that all differ once their numbering is
    set aside (short lines such as a quiz's "A. Biology" options may repeat)."""
    lines = [line.strip() for line in text.split("\n") if len(line.split()) >= 4]
    if len(lines) < 4:
        return False
    items = {_NUMBERING.sub("", line, count=1).casefold() for line in lines}
    return len(items) == len(lines)


def _tandem_repeat(words: list[str], loops: int, longest: int = 12) -> str | None:
    """A span of 2-`longest` words, two of them different words with letters, repeated `loops` times back to
    back, if any (the regex engine does the scan, over one character per word: each distinct word is coded
    as a character of its own, so a repeated span of words is a repeated span of characters)."""
    if len(words) < 2 * loops or max(Counter(zip(words, words[1:])).values()) < loops:  # no bigram recurs enough
        return None
    pattern = _TANDEM.get((loops, longest))
    if pattern is None:
        pattern = _TANDEM[(loops, longest)] = re.compile(rf"(.{{2,{longest}}}?)\1{{{loops - 1}}}", re.S)
    code = {word: chr(0x100 + i) for i, word in enumerate(dict.fromkeys(words))}
    coded = "".join(map(code.__getitem__, words))
    start = 0
    while match := pattern.search(coded, start):
        span = words[match.start():match.start() + len(match.group(1))]
        if _two_words(span):
            return " ".join(span)
        start = match.end() + 1  # as over words joined by spaces, where the word after a loop starts no span
    return None


def _two_words(span) -> bool:
    """At least two different words with letters: 'la la la', '11 941' and 'SUBSTITUTE(SUBSTITUTE(' loop nothing."""
    return len({w for w in span if any(c.isalpha() for c in w)}) >= 2


_TANDEM: dict[tuple[int, int], re.Pattern] = {}
