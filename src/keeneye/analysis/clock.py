"""Where the analysis gets the time from: keeneye's one clock (:mod:`keeneye.clock`) — the
wall clock in production, a hand-driven one in tests and in the demo, so that nothing ever
waits on the wall clock to see a window complete. Re-exported here for the analysis' users."""

from __future__ import annotations

from keeneye.clock import Clock, ClockLike, ManualClock, SystemClock, as_clock

__all__ = ["Clock", "ClockLike", "ManualClock", "SystemClock", "as_clock"]
