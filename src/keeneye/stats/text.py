"""Descriptors of free text: length in characters and tokens, emptiness, non-ASCII share,
the out-of-vocabulary rate against a baseline's vocabulary, and token counts.

Pure functions over strings. Tokens are lower-cased runs of word characters (``\\w+``).
Tokens travel and are kept as short keyed-free hashes (:func:`token_hash`), so that a token
sketch (:func:`token_sketch`) says which words a text used without holding the text.

>>> tokenize("Hello, wörld! Hello")
['hello', 'wörld', 'hello']
>>> d = describe_text("Hello, wörld!")
>>> d.chars, d.tokens, d.empty, round(d.non_ascii, 4)
(13, 2, False, 0.0769)
>>> parse_sketch(token_sketch("a b a")) == {token_hash("a"): 2, token_hash("b"): 1}
True
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from keeneye.errors import InputError

_TOKEN = re.compile(r"\w+")
#: Distinct tokens a sketch holds at most (the most frequent of the text).
SKETCH_MAX_TOKENS = 256


def tokenize(text: str) -> list[str]:
    """The lower-cased word tokens of ``text``."""
    return _TOKEN.findall(text.lower())


def token_hash(token: str) -> str:
    """A 12-hex-digit BLAKE2b digest of a token (the form tokens are sent and kept in)."""
    return hashlib.blake2b(token.encode("utf-8"), digest_size=6).hexdigest()


@dataclass(frozen=True)
class TextDescriptors:
    """What one text looks like: characters, tokens, empty (no token), share of non-ASCII
    characters (``None`` for an empty string)."""

    chars: int
    tokens: int
    empty: bool
    non_ascii: float | None


def describe_text(text: str) -> TextDescriptors:
    """The descriptors of one text."""
    if not isinstance(text, str):
        raise InputError(f"a text feature takes strings, got {type(text).__name__}")
    n_tokens = len(tokenize(text))
    chars = len(text)
    non_ascii = sum(1 for c in text if ord(c) > 127) / chars if chars else None
    return TextDescriptors(chars, n_tokens, n_tokens == 0, non_ascii)


def token_counts(text: str) -> Counter[str]:
    """How often each hashed token occurs in ``text``."""
    return Counter(token_hash(t) for t in tokenize(text))


def token_sketch(text: str, max_tokens: int = SKETCH_MAX_TOKENS) -> str:
    """The token counts of ``text`` as ``hash:count`` pairs separated by spaces (the
    ``max_tokens`` most frequent distinct tokens; the rest are dropped)."""
    counts = token_counts(text).most_common(max_tokens)
    return " ".join(f"{h}:{n}" for h, n in counts)


def parse_sketch(sketch: str) -> dict[str, int]:
    """Read :func:`token_sketch` back."""
    out: dict[str, int] = {}
    for pair in sketch.split():
        token, _, count = pair.partition(":")
        try:
            out[token] = out.get(token, 0) + int(count)
        except ValueError:
            raise InputError(
                f"token sketch entry {pair!r} is not hash:count; send the SDK's token_sketch"
            ) from None
    return out


def oov_rate(counts: Mapping[str, int], vocabulary: Collection[str]) -> float | None:
    """The share of token occurrences not in ``vocabulary`` (``None`` without tokens)."""
    total = sum(counts.values())
    if not total:
        return None
    return sum(n for t, n in counts.items() if t not in vocabulary) / total


def top_token_counts(
    sketches: Iterable[Mapping[str, int]], top: Mapping[str, str], other: str
) -> Counter[str]:
    """Occurrences of each top token (``top`` maps a token hash to its display name) and of
    every other token (under ``other``) over many texts."""
    out: Counter[str] = Counter()
    for counts in sketches:
        for token, n in counts.items():
            out[top.get(token, other)] += n
    return out


__all__ = [
    "SKETCH_MAX_TOKENS",
    "TextDescriptors",
    "describe_text",
    "oov_rate",
    "parse_sketch",
    "token_counts",
    "token_hash",
    "token_sketch",
    "tokenize",
    "top_token_counts",
]
