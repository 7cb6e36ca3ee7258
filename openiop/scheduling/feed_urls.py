"""Public calendar feed URLs (mounted at /calendar/ in the root URLconf). No login: the token in
the path is the credential; see ``openiop.scheduling.feeds``."""

from django.urls import path

from openiop.scheduling import feed_views

app_name = "calendar"
urlpatterns = [
    path("<str:token>.ics", feed_views.calendar_feed_ics, name="feed"),
]
