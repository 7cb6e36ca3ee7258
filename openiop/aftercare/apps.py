from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "openiop.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare and follow-up"
