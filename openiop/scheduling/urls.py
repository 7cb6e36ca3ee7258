from django.urls import path

from openiop.attendance import views as attendance_views
from openiop.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.session_list, name="session-list"),
    path("new/", views.session_create, name="session-create"),
    path("series/new/", views.series_create, name="series-create"),
    path("<uuid:public_id>/", views.session_detail, name="session-detail"),
    path("<uuid:public_id>/cancel/", views.session_cancel, name="session-cancel"),
    path("<uuid:public_id>/book/", views.booking_create, name="booking-create"),
    path(
        "<uuid:public_id>/attendance/",
        attendance_views.attendance_record,
        name="attendance-record",
    ),
]
