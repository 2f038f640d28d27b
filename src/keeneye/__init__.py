"""keeneye: keep an eye on machine-learning models in production."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from keeneye.errors import KeeneyeError
from keeneye.schema import FeatureKind

if TYPE_CHECKING:
    from keeneye.compare import compare
    from keeneye.report import DriftReport
    from keeneye.sdk import Monitor

__version__ = "0.1.0"

__all__ = ["DriftReport", "FeatureKind", "KeeneyeError", "Monitor", "__version__", "compare"]


def __getattr__(name: str) -> Any:
    # compare / DriftReport load scipy (~1 s): only on first use, so that `import keeneye` stays
    # cheap for the SDK inside model servers.
    if name == "compare":
        from keeneye.compare import compare

        globals()["compare"] = compare
        return compare
    if name == "Monitor":  # httpx and prometheus_client: not needed by the CLI's start-up
        from keeneye.sdk import Monitor

        globals()["Monitor"] = Monitor
        return Monitor
    if name == "DriftReport":
        from keeneye.report import DriftReport

        globals()["DriftReport"] = DriftReport
        return DriftReport
    raise AttributeError(f"module 'keeneye' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """keeneye's module type: importing the module ``keeneye.compare`` (e.g. ``from
    keeneye.compare import …``) must not replace the function ``keeneye.compare``, which Python
    would otherwise do by binding the submodule to the package attribute of the same name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "compare" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
