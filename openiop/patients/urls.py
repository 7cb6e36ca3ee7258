from django.urls import path

from openiop.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("new/", views.patient_create, name="patient-create"),
    path("<uuid:public_id>/", views.patient_detail, name="patient-detail"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="patient-edit"),
    path("<uuid:public_id>/guardians/", views.guardian_create, name="guardian-create"),
    path(
        "<uuid:public_id>/unavailable-windows/",
        views.unavailable_window_create,
        name="unavailable-window-create",
    ),
]
