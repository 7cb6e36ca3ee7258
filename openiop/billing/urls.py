from django.urls import path

from openiop.billing import views

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
]
