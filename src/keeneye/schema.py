"""Feature kinds: how keeneye treats a column."""

from __future__ import annotations

from enum import Enum


class FeatureKind(str, Enum):
    """The kind of a feature decides which statistics and drift tests apply
    (:data:`keeneye.kinds.KINDS` has one entry per kind).

    >>> FeatureKind("numeric") is FeatureKind.NUMERIC
    True
    """

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    TEXT = "text"
    DATETIME = "datetime"
    IMAGE = "image"
    EMBEDDING = "embedding"
    IDENTIFIER = "identifier"
    #: Another name of :attr:`DATETIME` (the same member).
    TIMESTAMP = "datetime"

    @property
    def testable(self) -> bool:
        """Whether the default univariate drift tests apply to this kind."""
        from keeneye.kinds import KINDS  # the table of kinds imports this module

        return KINDS[self].testable
