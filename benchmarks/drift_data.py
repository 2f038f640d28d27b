"""Seeded data for the drift benchmark: 20 numeric + 5 categorical columns, known drift.

The reference and the current window have the same number of rows. The current window
differs from the reference only where :data:`INJECTED` says so, so every contestant should
flag exactly those columns (a p-value rule at alpha = 0.05 may add about one false
positive among the 21 undrifted columns; that is the nominal rate, not a bug).

Files are written once per (rows, seed) to a cache directory and reused by later runs;
they are plain Parquet (float64 and string columns, no missing values) so that every peer
library can read them with its own pandas / pyarrow.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

N_NUMERIC = 20
N_CATEGORICAL = 5

# Mean shifts in units of the column's standard deviation. 0.25 sigma or more so that the
# distance-based default rules of the peers (e.g. Evidently's normed Wasserstein > 0.1)
# also flag them; smaller shifts would test the peers' thresholds, not their speed.
NUMERIC_SHIFTS: dict[str, float] = {"num_00": 0.25, "num_06": 0.3, "num_13": 0.4, "num_19": 0.5}

# Category shares of each categorical column: (categories, reference shares, current shares).
_CATEGORY_COUNTS = {"cat_0": 2, "cat_1": 4, "cat_2": 8, "cat_3": 20, "cat_4": 50}
CATEGORY_SHIFT = ("cat_1", (0.4, 0.3, 0.2, 0.1), (0.2, 0.3, 0.2, 0.3))

INJECTED: tuple[str, ...] = (*NUMERIC_SHIFTS, CATEGORY_SHIFT[0])

NUMERIC_COLUMNS = tuple(f"num_{i:02d}" for i in range(N_NUMERIC))
CATEGORICAL_COLUMNS = tuple(_CATEGORY_COUNTS)

# Data-format version: bump when the generator changes so that cached files are rebuilt.
_FORMAT = 1


@dataclass(frozen=True)
class DataSet:
    """Where the generated reference and current Parquet files are."""

    rows: int
    seed: int
    directory: Path

    @property
    def reference(self) -> Path:
        return self.directory / "reference.parquet"

    @property
    def current(self) -> Path:
        return self.directory / "current.parquet"


def default_cache_dir() -> Path:
    """A directory outside the repository that survives between runs (until reboot)."""
    return Path(tempfile.gettempdir()) / "keeneye-drift-bench"


def _numeric_column(rng: np.random.Generator, index: int, n: int) -> tuple[np.ndarray, float]:
    """A mix of shapes (symmetric, skewed, bounded, integer-valued with heavy ties).

    Returns the values and the distribution's standard deviation (to scale the shifts).
    """
    shape = index % 5
    if shape == 0:
        return rng.normal(loc=10.0 * index, scale=1.0 + index, size=n), 1.0 + index
    if shape == 1:
        sigma = 0.75
        std = float(np.sqrt((np.exp(sigma**2) - 1.0) * np.exp(sigma**2)))
        return rng.lognormal(mean=0.0, sigma=sigma, size=n), std
    if shape == 2:
        return rng.uniform(-5.0, 5.0, size=n), 10.0 / np.sqrt(12.0)
    if shape == 3:
        return rng.exponential(scale=2.0 + index, size=n), 2.0 + index
    lam = 3.0 + index
    return rng.poisson(lam=lam, size=n).astype(np.float64), float(np.sqrt(lam))


def _category_shares(column: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    k = _CATEGORY_COUNTS[column]
    categories = [f"{column}_v{j:02d}" for j in range(k)]
    if column == CATEGORY_SHIFT[0]:
        return categories, np.array(CATEGORY_SHIFT[1]), np.array(CATEGORY_SHIFT[2])
    weights = 1.0 / np.arange(1, k + 1)  # Zipf-like: a few common values, a long tail
    shares = weights / weights.sum()
    return categories, shares, shares


def _table(rng: np.random.Generator, n: int, *, current: bool) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    for i, name in enumerate(NUMERIC_COLUMNS):
        values, std = _numeric_column(rng, i, n)
        if current and name in NUMERIC_SHIFTS:
            values = values + NUMERIC_SHIFTS[name] * std
        arrays[name] = pa.array(values, type=pa.float64())
    for name in CATEGORICAL_COLUMNS:
        categories, reference_shares, current_shares = _category_shares(name)
        shares = current_shares if current else reference_shares
        codes = rng.choice(len(categories), size=n, p=shares)
        arrays[name] = pa.array(np.asarray(categories, dtype=object)[codes], type=pa.string())
    return pa.table(arrays)


def ensure_dataset(rows: int, seed: int = 20261127, cache_dir: Path | None = None) -> DataSet:
    """Write the reference and current Parquet files for ``rows`` rows unless already there."""
    directory = (cache_dir or default_cache_dir()) / f"v{_FORMAT}-rows{rows}-seed{seed}"
    data = DataSet(rows=rows, seed=seed, directory=directory)
    marker = directory / "meta.json"
    if marker.exists():
        return data
    directory.mkdir(parents=True, exist_ok=True)
    # Separate streams so that the current window is not a function of the reference draw.
    reference_seed, current_seed = np.random.SeedSequence(seed).spawn(2)
    reference_rng = np.random.default_rng(reference_seed)
    current_rng = np.random.default_rng(current_seed)
    pq.write_table(_table(reference_rng, rows, current=False), data.reference)
    pq.write_table(_table(current_rng, rows, current=True), data.current)
    meta = {
        "rows": rows,
        "seed": seed,
        "numeric": list(NUMERIC_COLUMNS),
        "categorical": list(CATEGORICAL_COLUMNS),
        "injected": list(INJECTED),
    }
    marker.write_text(json.dumps(meta, indent=2))  # written last: marks a complete data set
    return data
