from django.urls import path

from openiop.messaging import views

app_name = "messaging"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("sms/inbound/<str:token>/", views.sms_inbound, name="sms-inbound"),
]
