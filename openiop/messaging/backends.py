"""How an outbox message leaves the building.

* E-mail: Django's ``send_mail`` through ``settings.EMAIL_BACKEND`` (``DEFAULT_FROM_EMAIL`` as
  sender), so the console, file, locmem and SMTP backends all work unchanged.
* SMS: ``settings.OPENIOP_SMS_BACKEND`` picks a provider, like the video provider in
  :mod:`openiop.portal.video`:

  - ``"file"`` (default): appends one line per message to ``settings.OPENIOP_SMS_FILE``
    (default ``VAR_DIR / "sms-outbox.log"``). Nothing leaves the machine.
  - ``"console"``: logs the message at INFO on the ``openiop.messaging.sms`` logger.
  - a dotted path ``"package.module.function"``: any callable ``(to, body) -> None`` (a real
    gateway); it raises to signal a failure, which the outbox retries.

``register(name)`` adds a built-in provider.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from openiop.messaging.models import OutboxMessage

SmsBackend = Callable[[str, str], None]
SMS_BACKENDS: dict[str, SmsBackend] = {}
sms_log = logging.getLogger("openiop.messaging.sms")


def register(name: str) -> Callable[[SmsBackend], SmsBackend]:
    def decorate(backend: SmsBackend) -> SmsBackend:
        SMS_BACKENDS[name] = backend
        return backend

    return decorate


def sms_file() -> Path:
    configured = getattr(settings, "OPENIOP_SMS_FILE", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sms-outbox.log"


@register("file")
def file_backend(to: str, body: str) -> None:
    path = sms_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"at": dt.datetime.now(dt.UTC).isoformat(), "to": to, "body": body}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


@register("console")
def console_backend(to: str, body: str) -> None:
    sms_log.info("SMS to %s: %s", to, body)


def get_sms_backend(name: str | None = None) -> SmsBackend:
    name = name or getattr(settings, "OPENIOP_SMS_BACKEND", "") or "file"
    if name in SMS_BACKENDS:
        return SMS_BACKENDS[name]
    if "." in name:
        return import_string(name)
    raise ValueError(f"unknown SMS backend {name!r}")


def deliver(message: OutboxMessage) -> None:
    """Send one message on its channel; raises on failure (the caller records and retries)."""
    if message.channel == "email":
        send_mail(
            message.subject,
            message.body,
            getattr(settings, "DEFAULT_FROM_EMAIL", None),
            [message.to],
            fail_silently=False,
        )
    elif message.channel == "sms":
        get_sms_backend()(message.to, message.body)
    else:
        raise ValueError(f"unknown channel {message.channel!r}")
