"""The public API of keeneye.stats is exactly its sorted ``__all__``."""

from __future__ import annotations

import keeneye.stats as stats


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(stats) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(stats, name)).__name__ == "module"}

    # isort-style order (as ruff's RUF022): CONSTANTS, then Classes, then functions
    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert stats.__all__ == sorted(stats.__all__, key=order)
    assert set(stats.__all__) == public - modules - {"annotations"}
