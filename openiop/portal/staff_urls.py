"""Staff pages about a patient's portal access (outside /portal/, so portal users never reach
them: PortalIsolationMiddleware answers 404)."""

from django.urls import path

from openiop.portal import views

app_name = "portal_staff"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.access, name="access"),
    path("patients/<uuid:patient_id>/invite/", views.invite, name="invite"),
    path("accounts/<uuid:public_id>/disable/", views.disable, name="disable"),
    path(
        "patients/<uuid:patient_id>/consent-requests/new/",
        views.consent_request_new,
        name="consent-request-new",
    ),
    path(
        "consent-requests/<uuid:public_id>/withdraw/",
        views.consent_request_withdraw,
        name="consent-request-withdraw",
    ),
]
