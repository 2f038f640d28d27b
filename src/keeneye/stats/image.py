"""Descriptors of an image's pixels: mean brightness, RMS contrast and sharpness (variance of
the Laplacian), over a 2-D grey-level array.

Pure numpy; decoding images is the SDK's job (:mod:`keeneye.sdk.descriptors`, Pillow).

>>> flat = np.full((4, 4), 128.0)
>>> brightness(flat), rms_contrast(flat), sharpness(flat)
(128.0, 0.0, 0.0)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import InputError


def _grey(pixels: object) -> NDArray[np.float64]:
    array = np.asarray(pixels, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise InputError(f"grey levels must be a non-empty 2-D array, got shape {array.shape}")
    return array


def brightness(pixels: object) -> float:
    """Mean grey level (0–255 for 8-bit images)."""
    return float(_grey(pixels).mean())


def rms_contrast(pixels: object) -> float:
    """RMS contrast: the standard deviation of the grey levels (Peli 1990)."""
    return float(_grey(pixels).std())


def sharpness(pixels: object) -> float:
    """Variance of the 4-neighbour Laplacian over the interior pixels (Pech-Pacheco et al.
    2000); 0 for images smaller than 3×3."""
    g = _grey(pixels)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


__all__ = ["brightness", "rms_contrast", "sharpness"]
