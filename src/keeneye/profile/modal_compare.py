"""The comparison of a reference's text and embedding features with the current data: the
embedding tests (as drift rows and :class:`~keeneye.profile.report.EmbeddingDrift`), the
vocabulary's :class:`~keeneye.profile.report.TextDrift`, and how the reference keeps its
text/image/embedding profiles in its binary form.

The window's level is shared (:func:`keeneye.stats.budget.share_level`) between the engine's
features and the embedding tests in proportion to their numbers; each embedding test gets an
equal (Bonferroni) part of its family's share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from keeneye.kinds import descriptor_name
from keeneye.profile.modal import (
    CLASSIFIER,
    OTHER,
    EmbeddingProfile,
    Expanded,
    ImageProfile,
    ModalProfile,
    TextProfile,
)
from keeneye.profile.report import EmbeddingDrift, ModalSection, TextDrift, TokenShare
from keeneye.schema import FeatureKind
from keeneye.stats.budget import share_level
from keeneye.stats.embedding import classifier_test, cosine_distance, mmd_test
from keeneye.stats.profile import CategoricalReference
from keeneye.stats.results import DECIDED_BY_P_VALUE, FeatureDrift

if TYPE_CHECKING:
    from keeneye.profile.reference import CompareOptions, Prepared, Reference

#: Tests run on each embedding (MMD and the domain classifier).
TESTS_PER_EMBEDDING = 2


@dataclass(frozen=True)
class ModalOutcome:
    """The engine's options (with its share of the level), the embedding rows and the
    section."""

    options: CompareOptions
    rows: tuple[FeatureDrift, ...]
    section: ModalSection | None


def compare_modal(
    reference: Reference, prepared: Prepared, options: CompareOptions, n_features: int
) -> ModalOutcome:
    """Test the embeddings of ``prepared`` and describe its texts' vocabularies."""
    if not reference.modal:
        return ModalOutcome(options, (), None)
    expanded = prepared.modal
    current = expanded.embeddings if expanded is not None else {}
    embeddings = [p for p in reference.modal if isinstance(p, EmbeddingProfile)]
    n_tests = TESTS_PER_EMBEDDING * len(embeddings)
    if n_tests:
        feature_level, family_level = share_level(options.drift.alpha, [n_features, n_tests])
        if n_features:
            options = replace(options, drift=replace(options.drift, alpha=feature_level))
        level = family_level / n_tests
    rows: list[FeatureDrift] = []
    found: list[EmbeddingDrift] = []
    problems = expanded.problems if expanded is not None else {}
    for profile in embeddings:
        vectors = current.get(profile.feature)
        reason = problems.get(profile.feature) or _unusable(profile, vectors, options.role)
        if reason is not None or vectors is None:
            for name, method in _row_names(profile.feature):
                rows.append(
                    FeatureDrift.not_tested(name, FeatureKind.EMBEDDING, method, str(reason))
                )
            continue
        result = _embedding(profile, vectors, level, options.seed)
        found.append(result)
        rows.extend(_embedding_rows(result))
    texts = tuple(
        _text(p, reference, expanded) for p in reference.modal if isinstance(p, TextProfile)
    )
    return ModalOutcome(options, tuple(rows), ModalSection(texts, tuple(found)))


def _unusable(profile: EmbeddingProfile, vectors: np.ndarray | None, role: str) -> str | None:
    """Why an embedding cannot be tested against its reference sample (``None``: it can)."""
    if vectors is None:
        return f"column missing in {role} data"
    if len(vectors) < 2 or len(profile.sample) < 2:
        return "fewer than 2 vectors in the reference or the current data"
    if vectors.shape[1] != profile.sample.shape[1]:
        return (
            f"the {role} vectors have {vectors.shape[1]} dimensions, the reference's "
            f"{profile.sample.shape[1]}: compare embeddings of one model"
        )
    return None


def _row_names(feature: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (feature, "mmd"), (descriptor_name(feature, CLASSIFIER), "classifier_auc")


def _embedding(
    profile: EmbeddingProfile, vectors: np.ndarray, level: float, seed: int
) -> EmbeddingDrift:
    mmd = mmd_test(profile.sample, vectors, level=level, seed=seed)
    auc = classifier_test(profile.sample, vectors, level=level, seed=seed)
    return EmbeddingDrift(
        feature=profile.feature,
        dimensions=int(vectors.shape[1]),
        n_reference=mmd.n_reference,
        n_current=mmd.n_current,
        mmd2=mmd.statistic,
        mmd_p_value=mmd.p_value,
        bandwidth=mmd.bandwidth,
        permutations=mmd.permutations,
        auc=auc.auc,
        auc_ci_low=auc.ci_low,
        auc_ci_high=auc.ci_high,
        auc_p_value=auc.p_value,
        cosine_distance=cosine_distance(profile.sample, vectors),
        level=level,
        drifted=mmd.drifted or auc.drifted,
    )


def _embedding_rows(e: EmbeddingDrift) -> tuple[FeatureDrift, FeatureDrift]:
    (mmd_name, mmd_method), (auc_name, auc_method) = _row_names(e.feature)

    def row(name: str, method: str, statistic: float | None, p: float | None) -> FeatureDrift:
        drifted = p is not None and e.level is not None and p < e.level
        return FeatureDrift(
            feature=name,
            kind=FeatureKind.EMBEDDING,
            method=method,
            statistic=statistic,
            p_value=p,
            effect_size=e.cosine_distance,
            effect_method="cosine_distance",
            threshold=e.level,
            decided_by=DECIDED_BY_P_VALUE,
            drifted=drifted,
            reason=None,
            n_reference=e.n_reference,
            n_current=e.n_current,
            details={"dimensions": e.dimensions},
            p_value_adjusted=p,
            drifted_adjusted=drifted,
        )

    return (
        row(mmd_name, mmd_method, e.mmd2, e.mmd_p_value),
        row(auc_name, auc_method, e.auc, e.auc_p_value),
    )


def _text(profile: TextProfile, reference: Reference, expanded: Expanded | None) -> TextDrift:
    name = descriptor_name(profile.feature, "top_tokens")
    counted = expanded.counts.get(name) if expanded is not None else None
    return TextDrift(
        feature=profile.feature,
        vocabulary_size=len(profile.vocabulary),
        oov_reference=profile.oov_rate,
        oov_current=expanded.oov.get(profile.feature) if expanded is not None else None,
        top_tokens=_shares(profile, reference, name, counted.counts if counted else {}),
    )


def _shares(
    profile: TextProfile, reference: Reference, name: str, current: Mapping[Any, int]
) -> tuple[TokenShare, ...]:
    fitted = reference.profile.column(name) if name in reference.profile.features else None
    if not isinstance(fitted, CategoricalReference):
        return ()
    ref_total = sum(fitted.counts.values()) or 1
    cur_total = sum(current.values()) or 1
    tokens = [*profile.top.values(), OTHER]
    return tuple(
        TokenShare(t, fitted.counts.get(t, 0) / ref_total, current.get(t, 0) / cur_total)
        for t in tokens
    )


# --------------------------------------------------------------------------- serialising


def modal_header(
    profiles: Sequence[ModalProfile], arrays: dict[str, np.ndarray], prefix: str
) -> list[dict[str, Any]]:
    """The profiles as JSON for the reference's header (embedding samples go to ``arrays``)."""
    out: list[dict[str, Any]] = []
    for i, p in enumerate(profiles):
        if isinstance(p, TextProfile):
            out.append(
                {
                    "kind": "text",
                    "feature": p.feature,
                    "vocabulary": sorted(p.vocabulary),
                    "top": [[h, t] for h, t in p.top.items()],
                    "oov_rate": p.oov_rate,
                }
            )
        elif isinstance(p, ImageProfile):
            out.append({"kind": "image", "feature": p.feature})
        else:
            key = f"{prefix}e{i}"
            arrays[key] = p.sample
            out.append({"kind": "embedding", "feature": p.feature, "sample": key})
    return out


def modal_from_header(
    items: Sequence[Mapping[str, Any]], arrays: Mapping[str, np.ndarray]
) -> list[ModalProfile]:
    """Read :func:`modal_header` back."""
    out: list[ModalProfile] = []
    for item in items:
        feature = str(item["feature"])
        if item["kind"] == "text":
            oov = item.get("oov_rate")
            out.append(
                TextProfile(
                    feature,
                    frozenset(item["vocabulary"]),
                    {str(h): str(t) for h, t in item["top"]},
                    None if oov is None else float(oov),
                )
            )
        elif item["kind"] == "image":
            out.append(ImageProfile(feature))
        else:
            sample = np.asarray(arrays[item["sample"]], dtype=np.float64)
            out.append(EmbeddingProfile(feature, sample))
    return out


__all__ = ["ModalOutcome", "compare_modal", "modal_from_header", "modal_header"]
