from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"
