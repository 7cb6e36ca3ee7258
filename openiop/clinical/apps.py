from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "openiop.clinical"
    label = "clinical"
    verbose_name = "Clinical notes"
