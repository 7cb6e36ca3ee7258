"""Who did it: services accept ``actor=None`` (commands, the demo, background runs)."""

from __future__ import annotations

from typing import Any


def user_or_none(actor: Any) -> Any:
    """The actor as a saved user for ``created_by`` / ``updated_by`` fields, or None."""
    return actor if getattr(actor, "pk", None) else None
