"""Descriptors of text, image and embedding inputs, computed where the model runs so that
what leaves the process is a handful of numbers rather than the raw input.

A text feature ``review`` becomes ``review.chars``, ``review.tokens``, ``review.empty``,
``review.non_ascii`` and ``review.token_sketch`` (hashed token counts, from which the analysis
derives ``review.oov`` and ``review.top_tokens`` against the baseline's vocabulary). An image
feature ``photo`` becomes ``photo.width``, ``photo.height``, ``photo.aspect``,
``photo.channels``, ``photo.mode``, ``photo.brightness``, ``photo.contrast``,
``photo.sharpness``, ``photo.bytes`` and ``photo.format`` (Pillow; ``pip install
'keeneye[images]'``). An embedding is sent as one compact string (:func:`encode_embedding`).
The raw text or image is sent too only for the features named in ``keep_raw``.

>>> sorted(expand({"review": "Great phone!", "age": 3}, {"review": "text"}))
['age', 'review.chars', 'review.empty', 'review.non_ascii', 'review.token_sketch', 'review.tokens']
>>> decode_embedding(encode_embedding([0.5, -1.0])).tolist()
[0.5, -1.0]
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import InputError, require
from keeneye.kinds import (
    EMBEDDING_PREFIX,
    IMAGE_DESCRIPTORS,
    MODAL_KINDS,
    SKETCH,
    TEXT_DESCRIPTORS,
    descriptor_name,
)
from keeneye.schema import FeatureKind
from keeneye.stats.image import brightness, rms_contrast, sharpness
from keeneye.stats.text import describe_text, token_sketch


def text_descriptors(feature: str, text: Any) -> dict[str, Any]:
    """The descriptors of one text value (every one ``None`` for a missing text)."""
    if text is None:
        names = ("chars", "tokens", "empty", "non_ascii", SKETCH)
        return {descriptor_name(feature, s): None for s in names}
    d = describe_text(_as_text(feature, text))
    return {
        descriptor_name(feature, "chars"): d.chars,
        descriptor_name(feature, "tokens"): d.tokens,
        descriptor_name(feature, "empty"): d.empty,
        descriptor_name(feature, "non_ascii"): d.non_ascii,
        descriptor_name(feature, SKETCH): token_sketch(text),
    }


def _as_text(feature: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(
            f"feature {feature!r} is declared text but got {type(value).__name__}; send a string"
        )
    return value


@dataclass(frozen=True)
class ImageDescriptors:
    """What one image looks like, without its pixels."""

    width: int
    height: int
    aspect: float
    channels: int
    mode: str
    brightness: float
    contrast: float
    sharpness: float
    bytes: int | None
    format: str | None


def describe_image(image: Any) -> ImageDescriptors:
    """Descriptors of an encoded image (``bytes``), a ``PIL.Image.Image`` or a numpy array of
    pixels (H×W grey or H×W×C, uint8). Brightness, contrast and sharpness are measured on the
    grey levels (Pillow's ``L`` conversion, ITU-R 601-2 luma)."""
    require("PIL", "images")
    from PIL import Image

    size: int | None = None
    picture: Image.Image
    if isinstance(image, bytes | bytearray | memoryview):
        size = len(image)
        try:
            picture = Image.open(io.BytesIO(bytes(image)))
            picture.load()
        except Exception as exc:  # Pillow raises several types for undecodable input
            raise InputError(f"image bytes could not be decoded ({exc}); send PNG, JPEG …") from exc
    elif isinstance(image, Image.Image):
        picture = image
    elif isinstance(image, np.ndarray):
        picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    else:
        raise InputError(
            f"an image feature takes encoded bytes, a PIL image or a numpy array, "
            f"got {type(image).__name__}"
        )
    grey = np.asarray(picture.convert("L"), dtype=np.float64)
    width, height = picture.size
    return ImageDescriptors(
        width=width,
        height=height,
        aspect=width / height if height else 0.0,
        channels=len(picture.getbands()),
        mode=picture.mode,
        brightness=brightness(grey),
        contrast=rms_contrast(grey),
        sharpness=sharpness(grey),
        bytes=size,
        format=picture.format,
    )


def image_descriptors(feature: str, image: Any) -> dict[str, Any]:
    """The descriptors of one image value, named after ``feature``."""
    if image is None:
        return {descriptor_name(feature, s): None for s in IMAGE_DESCRIPTORS}
    d = describe_image(image)
    return {descriptor_name(feature, s): getattr(d, s) for s in IMAGE_DESCRIPTORS}


def encode_embedding(vector: Any) -> str:
    """A vector as one string: ``f32:`` and the base64 of its little-endian float32 values."""
    array = np.asarray(vector, dtype="<f4")
    if array.ndim != 1 or array.size == 0:
        raise InputError(f"an embedding is a non-empty 1-D vector, got shape {array.shape}")
    return EMBEDDING_PREFIX + base64.b64encode(array.tobytes()).decode("ascii")


def decode_embedding(value: Any) -> NDArray[np.float64]:
    """An embedding sent by :func:`encode_embedding`, or a list of numbers, as float64."""
    try:
        if isinstance(value, str):
            if not value.startswith(EMBEDDING_PREFIX):
                raise InputError(f"embedding text must start with {EMBEDDING_PREFIX!r}")
            raw = base64.b64decode(value[len(EMBEDDING_PREFIX) :], validate=True)
            return np.frombuffer(raw, dtype="<f4").astype(np.float64)
        return np.asarray(value, dtype=np.float64).ravel()
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"embedding value {str(value)[:40]!r} is not a vector ({exc}); send a list of "
            "numbers or the SDK's encode_embedding()"
        ) from None


def _image_raw(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "b64:" + base64.b64encode(bytes(value)).decode("ascii")
    raise InputError("keep_raw for an image needs its encoded bytes")


_EXPANDERS: Mapping[FeatureKind, Callable[[str, Any], dict[str, Any]]] = {
    FeatureKind.TEXT: text_descriptors,
    FeatureKind.IMAGE: image_descriptors,
    FeatureKind.EMBEDDING: lambda f, v: {f: None if v is None else encode_embedding(v)},
}


def parse_modalities(modalities: Mapping[str, FeatureKind | str]) -> dict[str, FeatureKind]:
    """Validate a ``{feature: "text" | "image" | "embedding"}`` mapping."""
    out: dict[str, FeatureKind] = {}
    for feature, kind in modalities.items():
        try:
            parsed = FeatureKind(kind)
        except ValueError:
            parsed = None
        if parsed not in MODAL_KINDS:
            raise InputError(
                f"modality {kind!r} of feature {feature!r} is not one of text, image, embedding"
            )
        assert parsed is not None
        out[feature] = parsed
    return out


def expand(
    inputs: Mapping[str, Any],
    modalities: Mapping[str, FeatureKind | str],
    keep_raw: Collection[str] = (),
) -> dict[str, Any]:
    """``inputs`` with every text and image feature replaced by its descriptors and every
    embedding encoded; features in ``keep_raw`` keep their raw value as well (images as
    ``b64:`` text)."""
    kinds = parse_modalities(modalities)
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        kind = kinds.get(name)
        if kind is None:
            out[name] = value
            continue
        out.update(_EXPANDERS[kind](name, value))
        if name in keep_raw and kind is not FeatureKind.EMBEDDING and value is not None:
            out[name] = value if kind is FeatureKind.TEXT else _image_raw(value)
    return out


__all__ = [
    "EMBEDDING_PREFIX",
    "IMAGE_DESCRIPTORS",
    "MODAL_KINDS",
    "SKETCH",
    "TEXT_DESCRIPTORS",
    "ImageDescriptors",
    "decode_embedding",
    "describe_image",
    "descriptor_name",
    "encode_embedding",
    "expand",
    "image_descriptors",
    "parse_modalities",
    "text_descriptors",
]
