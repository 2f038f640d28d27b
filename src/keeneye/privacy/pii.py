"""Recognise likely personal data in a string: e-mail addresses, phone numbers, card numbers.

Heuristics, tuned to flag rather than miss: a value is flagged when any part of it looks like
one of them. Card numbers are 13-19 digits (spaces or dashes allowed) that pass the Luhn check;
phone numbers are 7-15 digits after a leading ``+``, or 9-15 digits in separated groups.

>>> detect("write to ada@example.org")
'email'
>>> detect("4111 1111 1111 1111"), detect("4111 1111 1111 1112")
('card', None)
>>> detect("+44 20 7946 0958"), detect("plan pro")
('phone', None)
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\d)\d(?:[ \-]?\d){12,18}(?!\d)")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \-.()]{5,22}\d(?!\w)")

#: What :func:`detect` may return.
KINDS = ("email", "card", "phone")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of digits (card numbers pass it).

    >>> luhn_valid("79927398713"), luhn_valid("79927398710")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def detect(text: str) -> str | None:
    """The kind of personal data ``text`` seems to hold (``"email"``, ``"card"``,
    ``"phone"``), or ``None``."""
    if "@" in text and _EMAIL.search(text):
        return "email"
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return "card"
    for match in _PHONE.finditer(text):
        candidate = match.group()
        digits = re.sub(r"\D", "", candidate)
        if candidate.startswith("+"):
            if 7 <= len(digits) <= 15:
                return "phone"
        elif 9 <= len(digits) <= 15 and re.search(r"\d[ \-.()]+\d", candidate):
            # (nine digits or more without a '+': an ISO date has eight)
            return "phone"
    return None


__all__ = ["KINDS", "detect", "luhn_valid"]
