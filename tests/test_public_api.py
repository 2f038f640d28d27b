"""The public API is exactly what ``keeneye.__all__`` names, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import keeneye


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert sorted(keeneye.__all__) == keeneye.__all__
    for name in keeneye.__all__:
        assert getattr(keeneye, name) is not None


def test_no_public_name_outside_all() -> None:
    helpers = {"annotations", "TYPE_CHECKING", "Any"}  # typing plumbing of the module itself
    public = {name for name in vars(keeneye) if not name.startswith("_")} - helpers
    # Sub-packages become attributes once imported; they are reached as keeneye.<pkg>, not exports.
    modules = {name for name in public if type(vars(keeneye)[name]).__name__ == "module"}
    assert public - modules <= set(keeneye.__all__)


def test_compare_is_the_function_even_after_its_module_is_imported() -> None:
    import keeneye.compare as _module  # noqa: F401  (the import that could shadow the function)

    assert callable(keeneye.compare)
    assert keeneye.compare.__name__ == "compare"


def test_every_export_has_a_docstring() -> None:
    for name in keeneye.__all__:
        if name == "__version__":
            continue
        assert getattr(keeneye, name).__doc__, f"keeneye.{name} has no docstring"


def test_import_does_not_pull_optional_extras() -> None:
    code = (
        "import sys, keeneye\n"
        "optional = ('pandas', 'polars', 'plotly', 'sklearn', 'mlflow')\n"
        "heavy = [m for m in optional if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import keeneye imported optional packages: {out.stdout}"
