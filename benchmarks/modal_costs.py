"""What text, image and embedding monitoring costs: SDK descriptors per call and the embedding
tests per window, next to a plain baseline measured in the same run.

    python benchmarks/modal_costs.py

* text: ``expand()`` of one help-topic paragraph (descriptors + token sketch) against
  ``len(text.split())`` (the least any text descriptor does);
* image: ``describe_image()`` of one of scikit-learn's 640×427 JPEG photos against Pillow's
  decode alone;
* embedding: one window's MMD (permutations for a daily window's level) and domain classifier
  on 64-dimensional digits, against ``scipy.stats.ks_2samp`` on one coordinate.

Medians of repeated runs, wall seconds; the machine's load is not controlled: say so when
quoting the figures.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from pydoc_data.topics import topics

import numpy as np
from PIL import Image
from scipy import stats
from sklearn.datasets import load_digits, load_sample_images

from keeneye.sdk.descriptors import describe_image, expand
from keeneye.stats.embedding import classifier_test, mmd_test

LEVEL = 1 / 91.3125 / 2  # a daily window's level under the default budget, two tests


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    text = max(topics.values(), key=len)[:2000]
    photo = io.BytesIO()
    Image.fromarray(load_sample_images().images[0]).save(photo, format="JPEG")
    data = photo.getvalue()
    digits = load_digits().data
    order = np.random.default_rng(0).permutation(len(digits))
    ref, cur = digits[order[:900]], digits[order[900:]]
    rows = [
        ("text expand (2,000 chars)", _median(lambda: expand({"t": text}, {"t": "text"}), 200),
         _median(lambda: len(text.split()), 200)),
        ("image describe (640×427 JPEG)", _median(lambda: describe_image(data), 20),
         _median(lambda: Image.open(io.BytesIO(data)).load(), 20)),
        ("embedding MMD (300 + 300 × 64)", _median(lambda: mmd_test(ref, cur, level=LEVEL), 5),
         _median(lambda: stats.ks_2samp(ref[:, 20], cur[:, 20]), 5)),
        ("embedding classifier (5-fold)",
         _median(lambda: classifier_test(ref, cur, level=LEVEL), 3),
         _median(lambda: stats.ks_2samp(ref[:, 20], cur[:, 20]), 5)),
    ]  # fmt: skip
    print("| step | keeneye (s) | baseline (s) | ratio |")
    print("| --- | --- | --- | --- |")
    for name, ours, base in rows:
        print(f"| {name} | {ours:.4g} | {base:.4g} | {ours / base:.1f}× |")


if __name__ == "__main__":
    main()
