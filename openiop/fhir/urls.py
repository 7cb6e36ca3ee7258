from django.urls import path, re_path

from openiop.fhir import views, views_bulk

app_name = "fhir"

TYPE = r"(?P<resource_type>[A-Z][A-Za-z]+)"
ID = r"(?P<rid>[A-Za-z0-9\-.]{1,64})"
JOB = r"(?P<job>[0-9a-fA-F\-]{36})"

urlpatterns = [
    path("", views.base_view, name="base"),
    path("metadata", views.metadata, name="metadata"),
    re_path(r"^Patient/" + ID + r"/\$everything$", views.patient_everything, name="everything"),
    # Bulk Data $export (before the generic <Type>/<id> routes)
    re_path(r"^Group/" + ID + r"/\$export$", views_bulk.export_group, name="export-kickoff"),
    re_path(r"^Patient/\$export$", views_bulk.export_patients, name="export-patients"),
    re_path(r"^\$export-status/" + JOB + r"$", views_bulk.export_status, name="export-status"),
    re_path(
        r"^\$export-file/" + JOB + r"/" + TYPE + r"\.ndjson$",
        views_bulk.export_file,
        name="export-file",
    ),
    re_path(r"^" + TYPE + r"/_search$", views.type_view, name="type-search"),
    re_path(r"^" + TYPE + r"$", views.type_view, name="type"),
    re_path(r"^" + TYPE + r"/" + ID + r"$", views.instance_view, name="instance"),
]
