"""``openiop messages send [--loop] [--interval SECONDS] [--limit N]``: queue the reminders of the
next 24 hours, then deliver what is due in the outbox. Progress goes to stderr.

Run it from cron every few minutes, or once with ``--loop`` next to the web server (the interim
background runner of ADR 0009 style: the outbox table is the queue, so nothing else is needed;
with django-tasks this becomes a periodic task calling the same two services).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from openiop.messaging.services import (
    follow_up_messages_queue,
    outbox_deliver,
    questionnaire_messages_queue,
    reminders_queue,
)


class Command(BaseCommand):
    help = "Patient reminders: 'send' queues the next 24 hours' reminders and delivers the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["send"])
        parser.add_argument("--loop", action="store_true", help="repeat until interrupted")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between runs")
        parser.add_argument("--limit", type=int, default=100, help="messages per run")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                self._once(options["limit"])
                if not options["loop"]:
                    return
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            self._say("stopped")

    def _once(self, limit: int) -> None:
        now = timezone.now()
        queued = reminders_queue(now=now)
        follow_ups = follow_up_messages_queue(now=now)
        forms = questionnaire_messages_queue(now=now)
        self._say(
            f"{now:%Y-%m-%d %H:%M:%S}Z queued {queued} session reminder(s), "
            f"{follow_ups} follow-up message(s), {forms} questionnaire reminder(s)"
        )
        result = outbox_deliver(now=now, limit=limit)
        self._say(
            f"delivered: {result.sent} sent, {result.retrying} to retry, "
            f"{result.failed} failed, {result.cancelled} cancelled"
        )

    def _say(self, line: str) -> None:
        self.stderr.write(line, style_func=lambda s: s)
