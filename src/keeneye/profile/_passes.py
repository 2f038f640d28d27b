"""The threaded passes over a table's columns that come before (or need no) plan: kind
inference of the string columns, sorting of the float columns, and the sizes that tell
:func:`keeneye.stats._parallel.map_columns` whether planning or casting a table's columns is
worth the threads.

Arrow's hash and cast kernels and numpy's sort release the GIL, so the columns of a wide
table are processed on several cores at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.schema import FeatureKind
from keeneye.stats._clean import SortedNumbers, sorted_numbers
from keeneye.stats._kernels import KERNEL_FROM, preload
from keeneye.stats._parallel import map_columns
from keeneye.tables import KindGuess, infer_kind, type_family


def first_pass(
    table: pa.Table, names: Sequence[str], overrides: Mapping[str, FeatureKind], role: str
) -> tuple[dict[str, KindGuess], dict[str, SortedNumbers]]:
    """The work that needs no plan, for all columns at once on several threads (Arrow's hash
    kernel and numpy's sort release the GIL): :func:`~keeneye.tables.infer_kind` of the
    string columns without a declared kind, and the sorted values of the float64 columns that
    are numeric (their kind is not declared otherwise). The hashing jobs go first: they are
    the longest."""
    schema = table.schema
    strings = [
        n for n in names if n not in overrides and type_family(schema.field(n).type) == "string"
    ]
    floats = [
        n
        for n in names
        if schema.field(n).type == pa.float64()
        and overrides.get(n, FeatureKind.NUMERIC) is FeatureKind.NUMERIC
    ]

    inferring = set(strings)

    def work(name: str) -> KindGuess | SortedNumbers | None:
        column = table.column(name)
        if name in inferring:
            return infer_kind(column)
        try:
            return sorted_numbers(column, f"the {role} column", moments=True)
        except InputError:
            return None  # the fit says why

    jobs = [*strings, *floats]
    if any(len(table.column(n)) >= KERNEL_FROM for n in floats):
        preload()  # numba loads while the columns are hashed and sorted
    done = map_columns(work, jobs, sum(len(table.column(n)) for n in jobs))
    guesses = {n: g for n, g in zip(jobs, done, strict=True) if isinstance(g, KindGuess)}
    presorted = {n: v for n, v in zip(jobs, done, strict=True) if isinstance(v, SortedNumbers)}
    return guesses, presorted


def inference_size(table: pa.Table, names: Sequence[str], done: Mapping[str, KindGuess]) -> int:
    """Rows that planning ``names`` still has to hash (string columns not inferred yet) or
    cast (see :func:`casting_size`)."""
    present = set(table.column_names)
    hashing = sum(
        len(table.column(n))
        for n in names
        if n in present and n not in done and type_family(table.schema.field(n).type) == "string"
    )
    return hashing + casting_size(table, names)


def casting_size(table: pa.Table, names: Sequence[str]) -> int:
    """Rows of the columns of ``names`` that casting to their kind's type copies: those that
    are neither float64 nor string (large strings from pandas, integers, dictionaries …)."""
    schema = table.schema
    present = set(table.column_names)
    return sum(
        len(table.column(n))
        for n in names
        if n in present and schema.field(n).type not in (pa.float64(), pa.string())
    )
