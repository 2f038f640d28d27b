"""Every exception keeneye raises on purpose.

The tree::

    KeeneyeError
    ├── InputError            bad data or arguments handed to keeneye (a user can fix them)
    │   ├── ColumnError       one named column is unusable (missing, wrong type, empty …)
    │   └── DataSourceError   a file or object could not be read as a table
    ├── ConfigError           keeneye.yaml / KEENEYE_* settings are invalid
    ├── StoreError            the event store failed (I/O, schema, connection)
    ├── NotFoundError         a model, version or baseline that does not exist
    ├── CollectorError        the collector refused or could not answer a synchronous SDK call
    └── MissingExtraError     an optional dependency is not installed (names the pip command)

Messages name the thing and the fix, e.g.
``feature 'age' expected numeric, got 'cat' in 3 of 500 rows``.
"""

from __future__ import annotations


class KeeneyeError(Exception):
    """Base class of keeneye's own errors."""


class InputError(KeeneyeError, ValueError):
    """Data or arguments that keeneye cannot use as given."""


class ColumnError(InputError):
    """A named column cannot be used.

    >>> str(ColumnError("age", "expected numeric, got 'cat' in 3 of 500 rows"))
    "column 'age': expected numeric, got 'cat' in 3 of 500 rows"
    """

    def __init__(self, column: str, problem: str) -> None:
        self.column = column
        self.problem = problem
        super().__init__(f"column {column!r}: {problem}")


class DataSourceError(InputError):
    """A path or object could not be read as a table."""


class ConfigError(KeeneyeError, ValueError):
    """A setting has an invalid value; the message names the key and the value."""


class StoreError(KeeneyeError):
    """The event store could not complete an operation."""


class NotFoundError(KeeneyeError, LookupError):
    """A model, version, baseline or result that does not exist."""


class CollectorError(KeeneyeError):
    """The collector refused a synchronous request (e.g. registering a version) or was unreachable.

    ``status`` is the HTTP status (None when no answer came) and ``code`` the error code the
    collector sent, if any.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class MissingExtraError(KeeneyeError, ImportError):
    """An optional dependency is missing.

    >>> str(MissingExtraError("mlflow", "mlflow"))
    "this feature needs the optional dependency 'mlflow': pip install 'keeneye[mlflow]'"
    """

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"this feature needs the optional dependency {module!r}: pip install 'keeneye[{extra}]'"
        )


def require(module: str, extra: str) -> object:
    """Import an optional module or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, extra) from exc
