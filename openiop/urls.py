from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from openiop.api import api

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("openiop.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("patients/", include("openiop.patients.urls")),
    path("programs/", include("openiop.organizations.urls")),
    path("sessions/", include("openiop.scheduling.urls")),
    path("calendar/", include("openiop.scheduling.feed_urls")),
    path("episodes/", include("openiop.enrollment.urls")),
    path("intake/", include("openiop.placement.urls")),
    path("clinical/", include("openiop.clinical.urls")),
    path("questionnaires/", include("openiop.questionnaires.urls")),
    path("medications/", include("openiop.medications.urls")),
    path("billing/", include("openiop.billing.urls")),
    path("consent/", include("openiop.consent.urls")),
    path("audit/", include("openiop.core.urls")),
    path("aftercare/", include("openiop.aftercare.urls")),
    path("portal/", include("openiop.portal.urls")),
    path("portal-access/", include("openiop.portal.staff_urls")),
    path("fhir/r4/", include("openiop.fhir.urls")),
    path("messages/", include("openiop.messaging.urls")),
    path("", include("openiop.reports.urls")),
]
