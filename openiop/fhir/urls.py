from django.urls import path, re_path

from openiop.fhir import views

app_name = "fhir"

TYPE = r"(?P<resource_type>[A-Z][A-Za-z]+)"
ID = r"(?P<rid>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    path("", views.base_view, name="base"),
    path("metadata", views.metadata, name="metadata"),
    re_path(r"^Patient/" + ID + r"/\$everything$", views.patient_everything, name="everything"),
    re_path(r"^" + TYPE + r"/_search$", views.type_view, name="type-search"),
    re_path(r"^" + TYPE + r"$", views.type_view, name="type"),
    re_path(r"^" + TYPE + r"/" + ID + r"$", views.instance_view, name="instance"),
]
