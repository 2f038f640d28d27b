"""Exit codes shared by every command: 0 ok, 1 a finding (drift, alerts) or a failure of the
system (store, collector), 2 a usage or input error the user can fix (a bad option, a missing
file, an invalid config). Each error is one ``error:`` line on stderr.

>>> from keeneye.errors import DataSourceError, StoreError
>>> exit_code(DataSourceError("x")), exit_code(StoreError("y"))
(2, 1)
"""

from __future__ import annotations

import typer

from keeneye.errors import ConfigError, InputError, KeeneyeError, NotFoundError

#: Exit code of a usage or input error.
USAGE = 2
#: Exit code of a finding, or of a failure that is not the input's fault.
FINDING = 1


def exit_code(exc: KeeneyeError) -> int:
    """2 for what the user can fix in the input (:data:`USAGE`), else 1."""
    return USAGE if isinstance(exc, InputError | ConfigError | NotFoundError) else FINDING


def fail(exc: KeeneyeError) -> typer.Exit:
    """Print ``error: …`` and return the :class:`typer.Exit` to raise."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exit_code(exc))
