from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "openiop.organizations"
    label = "organizations"
    verbose_name = "Organizations, sites and programs"
