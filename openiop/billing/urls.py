from django.urls import path

from openiop.billing import views, views_claims, views_estimate, views_setup

app_name = "billing"

urlpatterns = [
    path("alerts/", views.authorization_alerts, name="authorization-alerts"),
    path(
        "episodes/<uuid:episode_id>/authorizations/",
        views.authorization_list,
        name="authorization-list",
    ),
    path(
        "episodes/<uuid:episode_id>/authorizations/new/",
        views.authorization_create,
        name="authorization-create",
    ),
    path(
        "authorizations/<uuid:public_id>/edit/",
        views.authorization_edit,
        name="authorization-edit",
    ),
    path(
        "authorizations/<uuid:public_id>/void/",
        views.authorization_void,
        name="authorization-void",
    ),
    # charges and claims (issue #8)
    path("days/", views_claims.billing_day, name="billing-day"),
    path("claims/", views_claims.claim_list, name="claim-list"),
    path("claims/build/", views_claims.claim_build, name="claim-build"),
    path("claims/bulk/", views_claims.claim_bulk, name="claim-bulk"),
    path("claims/<uuid:public_id>/", views_claims.claim_detail, name="claim-detail"),
    path("claims/<uuid:public_id>/action/", views_claims.claim_action, name="claim-action"),
    path("claims/<uuid:public_id>/correct/", views_claims.claim_correct, name="claim-correct"),
    path("exports/", views_claims.export_list, name="export-list"),
    path("exports/new/", views_claims.export_create, name="export-create"),
    path("exports/<uuid:public_id>/", views_claims.export_detail, name="export-detail"),
    path(
        "exports/<uuid:public_id>/download/",
        views_claims.export_download,
        name="export-download",
    ),
    # set-up
    path("payers/", views_setup.payer_list, name="payer-list"),
    path("payers/new/", views_setup.payer_create, name="payer-create"),
    path("payers/<uuid:public_id>/edit/", views_setup.payer_edit, name="payer-edit"),
    path("settings/", views_setup.profile_edit, name="profile-edit"),
    path("patients/<uuid:patient_id>/coverage/", views_setup.coverage_list, name="coverage-list"),
    path(
        "patients/<uuid:patient_id>/coverage/new/",
        views_setup.coverage_create,
        name="coverage-create",
    ),
    path("coverage/<uuid:public_id>/edit/", views_setup.coverage_edit, name="coverage-edit"),
    path(
        "episodes/<uuid:episode_id>/certifications/new/",
        views_setup.certification_create,
        name="certification-create",
    ),
    # patient cost estimate
    path("episodes/<uuid:episode_id>/estimate/", views_estimate.estimate, name="estimate"),
]
