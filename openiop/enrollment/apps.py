from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "openiop.enrollment"
    label = "enrollment"
    verbose_name = "Episodes of care"
