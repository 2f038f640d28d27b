"""The privacy tests use the notification tests' real local webhook sink."""

from tests.notify.conftest import webhook

__all__ = ["webhook"]
