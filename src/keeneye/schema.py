"""Feature kinds: how keeneye treats a column."""

from __future__ import annotations

from enum import Enum


class FeatureKind(str, Enum):
    """The kind of a feature decides which statistics and drift tests apply.

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

    @property
    def testable(self) -> bool:
        """Whether the default univariate drift tests apply to this kind."""
        return self in (FeatureKind.NUMERIC, FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN)
