"""Real text, images and vectors that install with packages (never downloaded at run time):
paragraphs of Python's own help topics (``pydoc_data``, in the standard library), and the
digits and sample photos scikit-learn ships."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray


def paragraphs() -> list[str]:
    """Paragraphs of at least three words from Python's help topics, in a seeded order."""
    from pydoc_data.topics import topics

    found = [
        p.strip() for text in topics.values() for p in text.split("\n\n") if len(p.split()) >= 3
    ]
    order = np.random.default_rng(0).permutation(len(found))
    return [found[i] for i in order]


def license_paragraphs() -> list[str]:
    """Paragraphs of another register: the licence texts scikit-learn and numpy ship."""
    from importlib import metadata

    found: list[str] = []
    for dist in ("scikit-learn", "numpy", "scipy"):
        for file in metadata.distribution(dist).files or []:
            if "LICENSE" in file.name.upper() or "COPYING" in file.name.upper():
                text = file.read_text() or ""
                found += [p.strip() for p in text.split("\n\n") if len(p.split()) >= 3]
    return found


def digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """scikit-learn's 1,797 8×8 digits (64-dimensional vectors) and their classes, in a
    seeded order (the file is ordered by writer)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    return data.data[order], data.target[order]


def digit_png(vector: NDArray[np.float64], size: int, gain: float = 1.0) -> bytes:
    """One digit as a ``size``×``size`` grey PNG, its brightness scaled by ``gain``."""
    from PIL import Image

    pixels = np.clip(vector.reshape(8, 8) * 16 * gain, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR)
    sink = io.BytesIO()
    image.save(sink, format="PNG")
    return sink.getvalue()
