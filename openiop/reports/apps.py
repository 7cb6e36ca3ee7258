from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "openiop.reports"
    label = "reports"
    verbose_name = "Reports"
