from django.urls import path

from openiop.consent import views

app_name = "consent"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.consent_list, name="consent-list"),
    path("patients/<uuid:patient_id>/new/", views.consent_create, name="consent-create"),
    path("patients/<uuid:patient_id>/release/", views.disclosure_create, name="disclosure-create"),
    path(
        "patients/<uuid:patient_id>/disclosures/",
        views.disclosure_accounting,
        name="disclosure-accounting",
    ),
    path(
        "patients/<uuid:patient_id>/break-glass/",
        views.break_glass_start,
        name="break-glass-start",
    ),
    path("<uuid:public_id>/revoke/", views.consent_revoke, name="consent-revoke"),
    path("<uuid:public_id>/expiry-event/", views.consent_expiry_event, name="consent-expiry-event"),
    path("disclosures/<uuid:public_id>/", views.disclosure_detail, name="disclosure-detail"),
    path("break-glass/", views.break_glass_queue, name="break-glass-queue"),
    path("break-glass/find/", views.break_glass_find, name="break-glass-find"),
    path(
        "break-glass/<uuid:public_id>/review/", views.break_glass_review, name="break-glass-review"
    ),
]
