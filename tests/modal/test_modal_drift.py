"""Text, image and embedding features through the one comparison (``Reference.compare``), on
real data shipped with packages: a change of text length or vocabulary, of image brightness or
size and of an embedding's distribution is flagged; an i.i.d. split is not."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tests.modal.corpora import digit_png, digits, license_paragraphs, paragraphs

from keeneye.profile.reference import CompareOptions, Reference
from keeneye.profile.report import Report
from keeneye.sdk.descriptors import decode_embedding, encode_embedding, expand
from keeneye.stats.options import DriftOptions

#: A daily window's level under the default alert budget (1 false alert per quarter).
LEVEL = 1 / 91.3125
OPTIONS = CompareOptions(drift=DriftOptions(alpha=LEVEL))


def _drifted(report: Report) -> set[str]:
    assert report.drift is not None
    return {f.feature for f in report.drift.features if f.drifted_adjusted or f.drifted}


@pytest.fixture(scope="module")
def texts() -> tuple[Reference, list[str]]:
    docs = paragraphs()
    half = len(docs) // 2
    fitted = Reference.fit(pa.table({"doc": docs[:half]}))
    return Reference.from_bytes(fitted.to_bytes()), docs[half:]


def test_text_is_inferred_and_an_iid_split_is_not_flagged(
    texts: tuple[Reference, list[str]],
) -> None:
    reference, current = texts
    assert [type(p).__name__ for p in reference.modal] == ["TextProfile"]
    report = reference.compare(pa.table({"doc": current}), OPTIONS)
    assert _drifted(report) == set()
    assert report.drift is not None and report.drift.modal is not None
    text = report.drift.modal.texts[0]
    assert text.vocabulary_size > 1000 and text.top_tokens[0].token == "the"
    assert abs((text.oov_current or 0) - (text.oov_reference or 0)) < 0.03
    assert Report.from_json(report.to_json()) == report


def test_shorter_texts_and_another_vocabulary_are_flagged(
    texts: tuple[Reference, list[str]],
) -> None:
    reference, current = texts
    shorter = [" ".join(t.split()[: max(1, len(t.split()) // 3)]) for t in current]
    assert {"doc.chars", "doc.tokens"} <= _drifted(
        reference.compare(pa.table({"doc": shorter}), OPTIONS)
    )
    other = license_paragraphs()
    assert {"doc.oov", "doc.top_tokens"} <= _drifted(
        reference.compare(pa.table({"doc": other}), OPTIONS)
    )


def test_sdk_descriptors_give_the_same_verdicts_as_raw_text(
    texts: tuple[Reference, list[str]],
) -> None:
    reference, current = texts
    rows = [expand({"doc": t}, {"doc": "text"}) for t in current[:400]]
    assert "doc" not in rows[0]  # the raw text stays in the process
    sent = pa.Table.from_pylist(rows)
    by_sdk = reference.compare(sent, OPTIONS)
    by_raw = reference.compare(pa.table({"doc": current[:400]}), OPTIONS)
    assert by_sdk.drift is not None and by_raw.drift is not None
    for name in ("doc.chars", "doc.tokens", "doc.oov", "doc.top_tokens", "doc.non_ascii"):
        assert by_sdk.drift[name].statistic == pytest.approx(by_raw.drift[name].statistic)


@pytest.fixture(scope="module")
def images() -> tuple[Reference, np.ndarray, np.ndarray]:
    vectors, _ = digits()
    sizes = np.random.default_rng(1).integers(24, 41, len(vectors))
    fitted = Reference.fit(_image_table(vectors[:900], sizes[:900]))
    return Reference.from_bytes(fitted.to_bytes()), vectors[900:], sizes[900:]


def _image_table(vectors: np.ndarray, sizes: np.ndarray, gain: float = 1.0) -> pa.Table:
    pngs = [digit_png(v, int(s), gain) for v, s in zip(vectors, sizes, strict=True)]
    return pa.table({"img": pa.array(pngs, pa.binary())})


def test_images_iid_not_flagged_brightness_and_size_flagged(
    images: tuple[Reference, np.ndarray, np.ndarray],
) -> None:
    reference, vectors, sizes = images
    assert _drifted(reference.compare(_image_table(vectors, sizes), OPTIONS)) == set()
    darker = _drifted(reference.compare(_image_table(vectors, sizes, gain=0.6), OPTIONS))
    assert "img.brightness" in darker and "img.width" not in darker
    larger = _drifted(reference.compare(_image_table(vectors, sizes * 3 // 2), OPTIONS))
    assert {"img.width", "img.height"} <= larger and "img.brightness" not in larger


def _embedding_table(vectors: np.ndarray) -> pa.Table:
    return pa.table({"emb": pa.array([list(v) for v in vectors], pa.list_(pa.float64()))})


def test_embeddings_iid_not_flagged_other_classes_flagged() -> None:
    vectors, classes = digits()
    fitted = Reference.fit(_embedding_table(vectors[:900]))
    reference = Reference.from_bytes(fitted.to_bytes())
    same = reference.compare(_embedding_table(vectors[900:]), OPTIONS)
    assert _drifted(same) == set()
    shifted = reference.compare(_embedding_table(vectors[900:][classes[900:] < 5]), OPTIONS)
    assert {"emb", "emb.classifier"} <= _drifted(shifted) and shifted.drift is not None
    found = shifted.drift.modal.embeddings[0] if shifted.drift.modal else None
    assert found is not None and found.drifted and found.dimensions == 64
    assert found.auc_ci_low is not None and found.auc_ci_low > 0.5
    assert Report.from_json(shifted.to_json()) == shifted
    # the SDK's compact string carries the same vectors
    encoded = [encode_embedding(v) for v in vectors[900:]]
    assert np.allclose(decode_embedding(encoded[0]), vectors[900], atol=1e-6)
    by_sdk = reference.compare(pa.table({"emb": encoded}), OPTIONS)
    assert by_sdk.drift is not None and same.drift is not None
    assert by_sdk.drift["emb"].p_value == pytest.approx(same.drift["emb"].p_value)


def test_a_reference_fitted_on_what_the_sdk_sent() -> None:
    # A rolling reference is fitted on earlier production windows: descriptors, token
    # sketches and encoded vectors, never the raw text.
    docs = paragraphs()
    vectors, classes = digits()

    def sent(texts: list[str], rows: np.ndarray) -> pa.Table:
        modalities = {"doc": "text", "emb": "embedding"}
        return pa.Table.from_pylist(
            [expand({"doc": t, "emb": v}, modalities) for t, v in zip(texts, rows, strict=False)]
        )

    fitted = Reference.fit(sent(docs[:800], vectors[:800]))
    reference = Reference.from_bytes(fitted.to_bytes())
    assert sorted(type(p).__name__ for p in reference.modal) == ["EmbeddingProfile", "TextProfile"]
    assert _drifted(reference.compare(sent(docs[800:1600], vectors[800:1600]), OPTIONS)) == set()
    other = vectors[800:1600][classes[800:1600] < 5]
    short = [" ".join(t.split()[:3]) for t in docs[800:1600]]
    found = _drifted(reference.compare(sent(short, other), OPTIONS))
    assert {"doc.chars", "doc.tokens", "emb"} <= found


def test_unreadable_or_mismatched_vectors_are_not_tested_rows() -> None:
    vectors, _ = digits()
    reference = Reference.fit(_embedding_table(vectors[:100]))
    narrow = reference.compare(_embedding_table(vectors[100:200, :10]), OPTIONS)
    assert narrow.drift is not None
    assert "10 dimensions, the reference's 64" in str(narrow.drift["emb"].reason)
    assert narrow.drift["emb.classifier"].reason == narrow.drift["emb"].reason
    garbled = reference.compare(pa.table({"emb": ["f32:AAAA", "not a vector"]}), OPTIONS)
    assert garbled.drift is not None
    assert "'f32:AAAA' is not a vector" in str(garbled.drift["emb"].reason)
    missing = reference.compare(pa.table({"other": [1.0, 2.0]}), OPTIONS)
    assert missing.drift is not None
    assert missing.drift["emb"].reason == "not tested: column missing in current data"
