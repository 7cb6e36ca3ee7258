from django.urls import path

from openiop.attendance import views as attendance_views
from openiop.scheduling import feed_views, views

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
    # Calendar feeds (issue #4): a staff member's own feed and a patient's feed.
    path("my-calendar/", feed_views.my_calendar, name="my-calendar"),
    path("my-calendar/create/", feed_views.my_calendar_create, name="my-calendar-create"),
    path("my-calendar/rotate/", feed_views.my_calendar_rotate, name="my-calendar-rotate"),
    path("my-calendar/revoke/", feed_views.my_calendar_revoke, name="my-calendar-revoke"),
    path(
        "patients/<uuid:public_id>/calendar/",
        feed_views.patient_calendar_feed,
        name="patient-calendar",
    ),
    path(
        "patients/<uuid:public_id>/calendar/create/",
        feed_views.patient_calendar_create,
        name="patient-calendar-create",
    ),
    path(
        "patients/<uuid:public_id>/calendar/rotate/",
        feed_views.patient_calendar_rotate,
        name="patient-calendar-rotate",
    ),
    path(
        "patients/<uuid:public_id>/calendar/revoke/",
        feed_views.patient_calendar_revoke,
        name="patient-calendar-revoke",
    ),
]

# The weekly board (issue #4): build, solve, pin and publish a program's week.
from openiop.scheduling import board_views  # noqa: E402

urlpatterns += [
    path("board/", board_views.board, name="board"),
    path("board/<uuid:public_id>/", board_views.board_draft, name="board-draft"),
    path("board/<uuid:public_id>/progress/", board_views.board_progress, name="board-progress"),
    path("board/<uuid:public_id>/resolve/", board_views.board_resolve, name="board-resolve"),
    path(
        "board/<uuid:public_id>/pin/<uuid:patient_id>/",
        board_views.board_pin,
        name="board-pin",
    ),
    path("board/<uuid:public_id>/publish/", board_views.board_publish, name="board-publish"),
]

# Individual sessions and medication visits around a published week (issue #4).
from openiop.scheduling import appointment_views  # noqa: E402

urlpatterns += [
    path(
        "board/<uuid:public_id>/appointments/",
        appointment_views.board_appointments,
        name="board-appointments",
    ),
]
