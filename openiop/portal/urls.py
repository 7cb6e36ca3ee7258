from django.urls import path

from openiop.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/<str:token>/", views.accept, name="accept"),
]
