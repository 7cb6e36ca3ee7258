from django.urls import path

from openiop.enrollment import views

app_name = "enrollment"
urlpatterns = [
    path("new/<uuid:patient_id>/", views.episode_create, name="episode-create"),
    path("<uuid:public_id>/", views.episode_detail, name="episode-detail"),
    path("<uuid:public_id>/admit/", views.episode_admit, name="episode-admit"),
    path("<uuid:public_id>/hold/", views.episode_hold, name="episode-hold"),
    path("<uuid:public_id>/resume/", views.episode_resume, name="episode-resume"),
    path("<uuid:public_id>/transfer/", views.episode_transfer, name="episode-transfer"),
    path("<uuid:public_id>/discharge/", views.episode_discharge, name="episode-discharge"),
]
