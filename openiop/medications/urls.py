from django.urls import path

from openiop.medications import views

app_name = "medications"

urlpatterns = [
    path("patients/<uuid:public_id>/", views.medication_list, name="medication-list"),
    path("patients/<uuid:public_id>/start/", views.medication_start, name="medication-start"),
    path("patients/<uuid:public_id>/screens/", views.drug_screen_list, name="drug-screen-list"),
    path("<uuid:public_id>/change/", views.medication_change, name="medication-change"),
    path("<uuid:public_id>/stop/", views.medication_stop, name="medication-stop"),
]
