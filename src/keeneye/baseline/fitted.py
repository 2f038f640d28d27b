"""The fitted :class:`~keeneye.profile.reference.Reference` of a registered baseline: fitted once
at registration and saved in the store (``save_reference``); every process and page loads it.

A stored reference carries the digest of the baseline it was fitted on: when the baseline was
registered again (another digest), or was saved straight through the store without a fitted
reference, it is fitted from the baseline table and saved, once.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.profile.reference import Reference
from keeneye.store.base import EventStore

log = logging.getLogger("keeneye.baseline")


def fit_and_save(
    store: EventStore, model: str, version: str, table: pa.Table, digest: str | None
) -> Reference:
    """Fit ``table`` as the reference of ``model`` version ``version`` and save it."""
    reference = Reference.fit_baseline(table, digest=digest)
    store.save_reference(model, version, reference.to_bytes())
    return reference


def stored_reference(store: EventStore, model: str, version: str) -> Reference | None:
    """The saved fitted reference, or ``None`` (none saved, or in a format this keeneye does
    not read: it is then fitted again)."""
    data = store.load_reference(model, version)
    if data is None:
        return None
    try:
        return Reference.from_bytes(data)
    except (InputError, ValueError, KeyError) as exc:
        log.warning("stored reference of %s v%s unreadable (%s); refitting", model, version, exc)
        return None


def load_reference(
    store: EventStore, model: str, version: str, digest: str | None = None
) -> Reference | None:
    """The fitted reference of a baseline whose content digest is ``digest`` (``None``: any
    stored one); fitted from the baseline table and saved when missing or stale. ``None``
    when the version has no baseline."""
    found = stored_reference(store, model, version)
    if found is not None and (digest is None or found.digest == digest):
        return found
    table = store.load_baseline(model, version)
    if table is None:
        return None
    if digest is None:
        from keeneye.baseline.register import table_digest

        digest = table_digest(table)
    return fit_and_save(store, model, version, table, digest)
