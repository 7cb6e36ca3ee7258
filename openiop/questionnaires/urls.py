from django.urls import path

from openiop.questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<uuid:public_id>/follow-up/", views.alert_follow_up, name="alert-follow-up"),
    path("patients/<uuid:public_id>/", views.patient_scores, name="patient-scores"),
    path("patients/<uuid:public_id>/give/", views.response_create, name="response-create"),
    path("responses/<uuid:public_id>/", views.response_detail, name="response-detail"),
    path("patients/<uuid:public_id>/links/", views.invitation_list, name="invitation-list"),
    path("links/<uuid:public_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("r/<str:token>/", views.link_respond, name="link-respond"),
    path("programs/<uuid:public_id>/schedule/", views.schedule_list, name="schedule-list"),
    path("schedules/<uuid:public_id>/remove/", views.schedule_remove, name="schedule-remove"),
    path("programs/<uuid:public_id>/due/", views.due_list, name="due-list"),
    path("programs/<uuid:public_id>/outcomes/", views.outcome_change, name="outcome-change"),
]
