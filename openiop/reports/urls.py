from django.urls import path

from openiop.reports import views, views_outcomes

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/outcomes/", views_outcomes.outcome_report, name="outcomes"),
    path("reports/teds.csv", views_outcomes.teds_export_csv, name="teds-export"),
]
