"""Form helpers shared by every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class ServiceErrorsMixin:
    """Show a service's ``ValidationError`` on the form: each message on its field, or on the
    form as a whole when the service names something the form does not have (e.g. "version").

    ``service_field_map`` renames service keys to form field names where they differ.
    """

    service_field_map: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        if hasattr(exc, "error_dict"):
            items: list[tuple[str | None, list[str]]] = list(exc.message_dict.items())
        else:
            items = [(None, exc.messages)]
        for key, messages in items:
            name = self.service_field_map.get(key or "", key)
            field = name if name in form.fields else None
            for message in messages:
                form.add_error(field, message)
