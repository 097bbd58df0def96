"""Private things in a text: what looks like a secret key, a person's email address or phone number (Q010, Q011).

Each detector takes a text and returns a message or None; `search` (`native.Search`) is the batch path's.
"""

import math
import re
from collections import Counter

from .native import Search, find

_SECRETS = {
    "OpenAI API key": re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{32,}"),
    "Anthropic API key": re.compile(r"\bsk-ant-[A-Za-z0-9_-]{32,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe live key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{24,}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b")
# Domains and mailboxes that are examples by convention or by obvious invention.
_EXAMPLE_DOMAIN = re.compile(r"(?:^|\.)(?:example|test|invalid|localhost|domain|email|company|companyname|yourdomain|"
                             r"yourcompany|mydomain|website|sample|acme|xyz|abc|fake)\.[a-z.]+$|\.(?:test|example|invalid|local)$", re.I)
_PHONE = re.compile(r"(?<![\w+.-])(?:\+\s?\d{1,3}[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b(?![.-]?\d)"
                    r"|(?<![\w+])\+\s?\d{1,3}(?:[\s.-]\(?\d{1,5}\)?){2,5}(?![.-]?\d)")


_SECRET_HINT = re.compile(r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|AIza|_live_|PRIVATE KEY|eyJ")


def secret(text: str, search: Search | None = None) -> str | None:
    if not find(_SECRET_HINT, text, search):
        return None
    for kind, pattern in _SECRETS.items():
        match = pattern.search(text)
        if match and (kind == "private key" or _entropy(match.group()) >= 3.0):
            return f"text contains what looks like a {kind}: {match.group()[:8]}…"
    return None


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(c / len(token) * math.log2(c / len(token)) for c in counts.values())


_PHONE_HINT = re.compile(r"\d[\d\s().-]{7,}\d")


def personal_data(text: str, search: Search | None = None) -> str | None:
    """An email address or phone number that could be a person's: not an example domain, a role mailbox
    (support@, sales@), a dummy mailbox (user123@, a@) or a dummy number (555, runs like 234-567-8901)."""
    for match in _EMAIL.finditer(text) if "@" in text else ():
        mailbox = match.group().split("@")[0].lower()
        if not (_EXAMPLE_DOMAIN.search(match.group(1)) or _ROLE_MAILBOX.match(mailbox) or _DUMMY_MAILBOX.match(mailbox)):
            return f"text contains an email address: {match.group()[:40]!r}"
    for match in _PHONE.finditer(text) if find(_PHONE_HINT, text, search) else ():
        digits = re.sub(r"\D", "", match.group())
        local = digits[-10:]
        if 9 <= len(digits) <= 15 and "555" not in (local[:3], local[3:6]) and len(set(digits)) > 3 and not _digit_run(local):
            return f"text contains a phone number: {match.group().strip()!r}"
    return None


# Mailboxes of a role or a team, not of a person.
_ROLE_MAILBOX = re.compile(r"(?:support|sales|info|contact|hello|help|admin|office|team|service|services|marketing|press|"
                           r"media|jobs|careers|hr|billing|accounts?|abuse|webmaster|postmaster|no-?reply|donotreply|"
                           r"offers?|alerts?|news|newsletter|promotions?|orders?|feedback|enquiries|inquiries|git)"
                           r"(?:[._-]\w+)?$")
_DUMMY_MAILBOX = re.compile(r"(?:[a-z]|[a-z]{1,3}\d*|user\w*|username|test\w*|example\w*|sample\w*|demo|foo|bar|"
                            r"john\.?doe|jane\.?doe|your\.?\w*|my_?\w*address|name|email|someone|somebody|me)$")


def _digit_run(digits: str, length: int = 4) -> bool:
    """Four or more digits counting up or down (234-567-8901, 987-654-3210, 888-123-4567): a made-up number."""
    run, last = 1, None
    for a, b in zip(digits, digits[1:]):
        step = (int(b) - int(a)) % 10
        run = run + 1 if step in (1, 9) and (run == 1 or step == last) else 1
        last = step
        if run >= length:
            return True
    return False


# What the batch path searches in native code in every message (see stages/quality.py).
MESSAGE_PATTERNS = (_SECRET_HINT, _PHONE_HINT)
