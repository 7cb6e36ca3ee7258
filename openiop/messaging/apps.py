from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "openiop.messaging"
    label = "messaging"
    verbose_name = "Reminders and messages"
