from django.urls import path

from openiop.questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<uuid:public_id>/follow-up/", views.alert_follow_up, name="alert-follow-up"),
    path("patients/<uuid:public_id>/", views.patient_scores, name="patient-scores"),
    path("patients/<uuid:public_id>/give/", views.response_create, name="response-create"),
    path("responses/<uuid:public_id>/", views.response_detail, name="response-detail"),
]
