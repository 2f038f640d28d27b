"""Baselines from data versioned with DVC: ``dvc://REPO_PATH/path/to/data.parquet@REV``.

The file is read through DVC's own API (``dvc.api.open`` with ``rev``: from the cache, or
pulled from the repository's remote when the cache does not hold it); the git commit the
revision resolves to and DVC's md5 of the file (from its ``.dvc`` file or ``dvc.lock`` at
that revision) are recorded with the baseline. ``@REV`` is a git tag, branch or commit;
without it the workspace is read. The repository is the deepest folder of the path that holds
a ``.dvc`` folder.

Needs ``pip install 'keeneye[dvc]'``.

>>> parse_dvc_uri("dvc:///srv/repo/data/train.parquet@v1.2")
DvcRef(path='/srv/repo/data/train.parquet', rev='v1.2')
>>> parse_dvc_uri("dvc://data/train.parquet")
DvcRef(path='data/train.parquet', rev=None)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from keeneye.baseline.sources import Origin, Resolved
from keeneye.errors import DataSourceError, InputError, require
from keeneye.tables import load_table

SCHEME = "dvc://"
_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz")


class DvcRef(NamedTuple):
    """A ``dvc://`` URI taken apart: the file's path (repository folder included) and the
    revision (``None``: the workspace)."""

    path: str
    rev: str | None


def parse_dvc_uri(uri: str) -> DvcRef:
    """Split ``dvc://PATH@REV``; the revision is what follows the last ``@`` (no ``/`` in it).

    >>> parse_dvc_uri("dvc://")
    Traceback (most recent call last):
    ...
    keeneye.errors.InputError: DVC source 'dvc://': ...
    """
    if not uri.startswith(SCHEME):
        raise InputError(f"DVC source {uri!r} does not start with {SCHEME}")
    rest = uri[len(SCHEME) :]
    path, at, rev = rest.rpartition("@")
    if not at or "/" in rev:
        path, rev = rest, ""
    elif not rev:
        path = ""  # "…@" names no revision
    if not path:
        raise InputError(
            f"DVC source {uri!r}: use dvc://REPO_PATH/path/to/data.parquet@REV "
            "(REV a git tag, branch or commit; leave out @REV for the workspace)"
        )
    if not path.lower().endswith(_SUFFIXES):
        raise InputError(f"DVC source {uri!r}: the file must be .parquet, .pq, .csv or .csv.gz")
    return DvcRef(path, rev or None)


def find_repo(path: Path) -> tuple[Path, str]:
    """The DVC repository holding ``path`` (its deepest folder with a ``.dvc`` folder) and the
    path inside it (POSIX)."""
    absolute = path.absolute()
    for folder in absolute.parents:
        if (folder / ".dvc").is_dir():
            return folder, absolute.relative_to(folder).as_posix()
    raise InputError(
        f"no DVC repository holds {str(path)!r}: none of its folders has a .dvc folder "
        "(run `dvc init` there, or give the repository's path in dvc://REPO_PATH/…)"
    )


def _dvc_errors() -> tuple[type[BaseException], ...]:
    from dvc.exceptions import DvcException
    from scmrepo.exceptions import SCMError

    return (DvcException, SCMError, OSError)


def read_dvc(uri: str) -> Resolved:
    """Read the file a ``dvc://`` URI names at its revision; record revision, commit and md5."""
    ref = parse_dvc_uri(uri)
    dvc_api: Any = require("dvc.api", "dvc")
    from dvc.fs import DVCFileSystem

    repo, inner = find_repo(Path(ref.path))
    errors = _dvc_errors()
    at = f"at {ref.rev}" if ref.rev else "in the workspace"
    try:
        fs = DVCFileSystem(url=str(repo), rev=ref.rev)
        try:
            info = fs.info(inner)
            commit = str(fs.repo.scm.resolve_rev(ref.rev or "HEAD"))
        finally:
            fs.close()
    except FileNotFoundError as exc:
        raise DataSourceError(
            f"{inner!r} is not in the DVC repository {str(repo)!r} {at}: check the path "
            "(`dvc list` shows what the repository tracks)"
        ) from exc
    except errors as exc:
        raise DataSourceError(
            f"DVC cannot read {str(repo)!r} {at}: {exc} (is {ref.rev!r} a tag, branch or "
            "commit of that repository?)"
        ) from exc
    md5 = info.get("md5")
    try:
        with dvc_api.open(inner, repo=str(repo), rev=ref.rev, mode="rb") as handle:
            data = handle.read()
    except errors as exc:
        raise DataSourceError(
            f"DVC cannot open {inner!r} of {str(repo)!r} {at}: {exc} (`dvc push` it to the "
            "repository's remote, or keep it in the cache)"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="keeneye-dvc-") as folder:
        local = Path(folder) / Path(inner).name
        local.write_bytes(data)
        loaded = load_table(local, role="baseline")
    if loaded.unconvertible:
        column, problem = next(iter(sorted(loaded.unconvertible.items())))
        raise DataSourceError(f"column {column!r} of {uri}: {problem}")
    origin = Origin(
        kind="dvc",
        uri=uri,
        file_hash=None if md5 is None else str(md5),
        revision=ref.rev,
        commit=commit,
    )
    return Resolved(loaded.table, origin)
