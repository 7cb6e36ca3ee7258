from django.urls import path

from openiop.organizations import views

app_name = "organizations"
urlpatterns = [
    path("", views.program_list, name="program-list"),
    path("<uuid:public_id>/", views.program_detail, name="program-detail"),
    path("<uuid:public_id>/edit/", views.program_edit, name="program-edit"),
]
