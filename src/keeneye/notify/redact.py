"""Keep notification secrets out of logs, errors and alert history.

Apprise URLs carry credentials (``slack://T000/B000/XXXX``, ``mailtos://user:password@host``,
``jsons://user:token@host/path``). Anything keeneye logs or stores about a channel goes through
:class:`Redactor` first.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

MASK = "****"

# Parts of a URL that are structure, not secrets, even when apprise's privacy URL drops them.
_SEPARATORS = re.compile(r"[/:@?&=#,+]+")
# Fragments shorter than this are too common (ports, "to", "v1") to be worth masking.
_MIN_SECRET_LEN = 4
# Query values are mostly options ("yes", "POST", "markdown"); only long ones can be tokens.
_MIN_QUERY_SECRET_LEN = 8


def private_url(url: str) -> str:
    """A printable form of an apprise URL with its credentials masked.

    Starts from apprise's own privacy rendering (passwords and API keys masked), drops the query
    string, and also masks path segments: generic webhooks often carry their token in the path,
    which apprise prints in clear. An URL that apprise does not understand keeps only its scheme.

    >>> private_url("json://user:s3cr3t@127.0.0.1:8080/hooks/abc123")
    'json://user:****@127.0.0.1:8080/****/****'
    >>> private_url("slack://T000AAAA/B000BBBB/XXXXYYYYZZZZ")
    'slack://T...A/B...B/X...Z'
    >>> private_url("not a url")
    '<invalid apprise url>'
    """
    with _silenced("apprise"):  # apprise logs the URL it loads, path tokens included
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = urlsplit(url).scheme if "://" in url else ""
        return f"{scheme}://{MASK}" if scheme else "<invalid apprise url>"
    shown = str(plugin.url(privacy=True)).split("?", 1)[0].rstrip("/")
    scheme, _, rest = shown.partition("://")
    netloc, _, path = rest.partition("/")
    segments = [_mask_segment(seg) for seg in path.split("/") if seg]
    return "/".join([f"{scheme}://{netloc}", *segments])


@contextmanager
def _silenced(name: str) -> Iterator[None]:
    drop_all = logging.Filter(name="\0")  # matches no logger name, so it rejects every record
    logger = logging.getLogger(name)
    logger.addFilter(drop_all)
    try:
        yield
    finally:
        logger.removeFilter(drop_all)


def _mask_segment(segment: str) -> str:
    # apprise already shortened its known secrets to "X...Y"; anything else may be a token.
    if "..." in segment or MASK in segment or len(segment) < _MIN_SECRET_LEN:
        return segment
    return MASK


class Redactor:
    """Masks every fragment of a secret URL that its privacy form does not show.

    >>> r = Redactor(["slack://T000AAAA/B000BBBB/XXXXYYYYZZZZ"])
    >>> r("POST to https://hooks.slack.com/services/T000AAAA/B000BBBB/XXXXYYYYZZZZ failed")
    'POST to https://hooks.slack.com/services/****/****/**** failed'
    """

    def __init__(self, urls: list[str]) -> None:
        secrets: set[str] = set()
        for url in urls:
            shown = private_url(url)
            head, _, query = url.partition("?")
            candidates = [(raw, _MIN_SECRET_LEN) for raw in _SEPARATORS.split(head)]
            candidates += [(value, _MIN_QUERY_SECRET_LEN) for _, value in parse_qsl(query)]
            for raw, min_len in candidates:
                for fragment in {raw, unquote(raw)}:
                    if len(fragment) >= min_len and fragment not in shown:
                        secrets.add(fragment)
        # Longest first so that a secret containing another is masked whole.
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


class AppriseLogFilter(logging.Filter):
    """Masks channel secrets in the log records of apprise and urllib3, which print full webhook
    URLs and request paths at DEBUG level. One instance sits on each of those loggers; channels
    register their redactors (held weakly: a discarded channel's secrets are forgotten).
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()

    def add(self, redactor: Redactor) -> None:
        self._redactors.add(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        for redactor in list(self._redactors):
            text = redactor(text)
        record.msg, record.args = text, ()
        return True


#: Loggers that may print a channel's URL or request path.
_LEAKY_LOGGERS = ("apprise", "urllib3.connectionpool")


def apprise_log_filter() -> AppriseLogFilter:
    """The filter installed on apprise's and urllib3's loggers (installed on first use)."""
    first = logging.getLogger(_LEAKY_LOGGERS[0])
    for existing in first.filters:
        if isinstance(existing, AppriseLogFilter):
            return existing
    created = AppriseLogFilter()
    for name in _LEAKY_LOGGERS:
        logging.getLogger(name).addFilter(created)
    return created
