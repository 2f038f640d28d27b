"""What the SDK computes from text, images and embeddings, checked against Pillow, numpy and
scipy on real images scikit-learn ships; bad inputs get errors that say what to send."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage
from sklearn.datasets import load_sample_images

from keeneye.errors import InputError
from keeneye.sdk.descriptors import describe_image, expand, parse_modalities
from keeneye.stats.embedding import mmd2_unbiased, mmd_test
from keeneye.stats.text import describe_text, parse_sketch, token_hash, token_sketch


def _jpeg(pixels: np.ndarray) -> bytes:
    sink = io.BytesIO()
    Image.fromarray(pixels).save(sink, format="JPEG", quality=90)
    return sink.getvalue()


def test_image_descriptors_of_scikit_learns_photos() -> None:
    for photo in load_sample_images().images:  # china.jpg, flower.jpg: 427×640 RGB
        data = _jpeg(photo)
        d = describe_image(data)
        grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64)
        laplace = ndimage.convolve(grey, np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]))
        assert (d.width, d.height, d.channels, d.mode, d.format) == (640, 427, 3, "RGB", "JPEG")
        assert d.aspect == pytest.approx(640 / 427) and d.bytes == len(data)
        assert d.brightness == pytest.approx(grey.mean())
        assert d.contrast == pytest.approx(grey.std())
        assert d.sharpness == pytest.approx(laplace[1:-1, 1:-1].var())
        darker = describe_image((photo * 0.5).astype(np.uint8))
        assert darker.brightness == pytest.approx(d.brightness / 2, rel=0.03)


def test_expand_sends_descriptors_and_keeps_raw_values_only_when_asked() -> None:
    photo = _jpeg(load_sample_images().images[0])
    sent = expand(
        {"review": "Ça va? Ça va.", "photo": photo, "emb": [0.5, 1.0], "age": 3},
        {"review": "text", "photo": "image", "emb": "embedding"},
    )
    assert "review" not in sent and "photo" not in sent and sent["age"] == 3
    assert sent["review.tokens"] == 4 and sent["review.chars"] == 13
    assert parse_sketch(sent["review.token_sketch"]) == {token_hash("ça"): 2, token_hash("va"): 2}
    assert sent["photo.width"] == 640 and isinstance(sent["emb"], str)
    kept = expand({"review": "hi", "photo": photo}, {"review": "text", "photo": "image"},
                  keep_raw=["review", "photo"])  # fmt: skip
    assert kept["review"] == "hi" and kept["photo"].startswith("b64:")


def test_bad_inputs_say_what_to_send() -> None:
    with pytest.raises(
        InputError, match="modality 'x' of feature 'f' is not one of text, image, embedding"
    ):
        parse_modalities({"f": "x"})
    with pytest.raises(InputError, match="feature 'review' is declared text but got int"):
        expand({"review": 3}, {"review": "text"})
    with pytest.raises(InputError, match="could not be decoded"):
        describe_image(b"not an image")
    with pytest.raises(InputError, match="non-empty 1-D vector"):
        expand({"emb": [[1.0]]}, {"emb": "embedding"})


def test_text_descriptors() -> None:
    d = describe_text("")
    assert (d.chars, d.tokens, d.empty, d.non_ascii) == (0, 0, True, None)
    assert describe_text("naïve café").non_ascii == pytest.approx(2 / 10)
    many = " ".join(f"w{i}" for i in range(300))
    assert len(parse_sketch(token_sketch(many))) == 256  # bounded


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(4, 30), m=st.integers(4, 30), shift=st.floats(-2, 2), seed=st.integers(0, 99))
def test_mmd_properties(n: int, m: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 3)), rng.normal(shift, 1, size=(m, 3))
    assert mmd2_unbiased(x, y, 1.3) == pytest.approx(mmd2_unbiased(y, x, 1.3), abs=1e-12)
    result = mmd_test(x, y, level=0.05, seed=seed, permutations=99)
    assert 0 < result.p_value <= 1
    # row order does not change the statistic
    assert mmd2_unbiased(x[::-1], y, 1.3) == pytest.approx(mmd2_unbiased(x, y, 1.3), abs=1e-12)
