from django.urls import path

from openiop.portal import views, views_join, views_records

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/<str:token>/", views.accept, name="accept"),
    path("questionnaires/", views_records.questionnaires, name="questionnaires"),
    path("questionnaires/<slug:key>/", views_records.questionnaire_fill, name="questionnaire-fill"),
    path("consents/", views_records.consents, name="consents"),
    path("consents/<uuid:public_id>/revoke/", views_records.consent_revoke, name="consent-revoke"),
    path("accounting/", views_records.accounting, name="accounting"),
    path("sessions/<uuid:public_id>/join/", views_join.session_join, name="session-join"),
    path("sessions/<uuid:public_id>/leave/", views_join.session_leave, name="session-leave"),
]
