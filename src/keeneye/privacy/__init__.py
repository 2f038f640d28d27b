"""Privacy controls: per-field policies applied before data leaves the model server and again
by the collector (:mod:`.policy`), detection of personal data in strings (:mod:`.pii`), and
differential-privacy noise on published counts (:mod:`.dp`). ``docs/privacy.md`` explains them.
"""

from __future__ import annotations

from keeneye.privacy.policy import PrivacyPolicy, apply_to_table

__all__ = ["PrivacyPolicy", "apply_to_table"]
