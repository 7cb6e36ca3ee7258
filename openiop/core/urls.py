from django.urls import path

from openiop.core import views_audit

app_name = "audit"

urlpatterns = [
    path("", views_audit.event_list, name="event-list"),
    path("export.csv", views_audit.event_export, name="event-export"),
    path("patients/<uuid:public_id>/", views_audit.patient_access, name="patient-access"),
    path("chain/verify/", views_audit.chain_verify, name="chain-verify"),
]
