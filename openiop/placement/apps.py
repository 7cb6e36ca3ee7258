from django.apps import AppConfig


class PlacementConfig(AppConfig):
    name = "openiop.placement"
    label = "placement"
    verbose_name = "Intake and placement"
