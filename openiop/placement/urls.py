from django.urls import path

from openiop.placement import views

app_name = "placement"
urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("new/", views.referral_create, name="referral-create"),
    path("waitlist/", views.waitlist, name="waitlist"),
    path("report/", views.intake_report, name="intake-report"),
    path("<uuid:public_id>/", views.referral_detail, name="referral-detail"),
    path("<uuid:public_id>/screen/", views.screening_create, name="screening-create"),
    path("<uuid:public_id>/assess/", views.assessment_create, name="assessment-create"),
    path("<uuid:public_id>/admit/", views.referral_admit, name="referral-admit"),
    path("<uuid:public_id>/refer-out/", views.referral_refer_out, name="referral-refer-out"),
    path("<uuid:public_id>/close/", views.referral_close, name="referral-close"),
]
