from django.urls import path

from openiop.portal import views, views_join, views_plan, views_records

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/<str:token>/", views.accept, name="accept"),
    path("questionnaires/", views_records.questionnaires, name="questionnaires"),
    path("questionnaires/<slug:key>/", views_records.questionnaire_fill, name="questionnaire-fill"),
    path("consents/", views_records.consents, name="consents"),
    path("consents/<uuid:public_id>/revoke/", views_records.consent_revoke, name="consent-revoke"),
    path("consents/sign/<uuid:public_id>/", views_records.consent_sign, name="consent-sign"),
    path("accounting/", views_records.accounting, name="accounting"),
    path("plan/", views_plan.plan, name="plan"),
    path(
        "aftercare/<uuid:public_id>/check-in/",
        views_plan.aftercare_check_in,
        name="aftercare-check-in",
    ),
    path("reminders/", views_plan.preferences, name="preferences"),
    path("calendar/", views_plan.calendar, name="calendar"),
    path("sessions/<uuid:public_id>/join/", views_join.session_join, name="session-join"),
    path("sessions/<uuid:public_id>/leave/", views_join.session_leave, name="session-leave"),
]
