"""``keeneye worker stats|drift``: the statistics service and the drift detector as their own
processes on a shared store (PostgreSQL), any number of each, sharing windows through leases."""

from keeneye.workers.process import WorkerMetrics, WorkerProcess

__all__ = ["WorkerMetrics", "WorkerProcess"]
