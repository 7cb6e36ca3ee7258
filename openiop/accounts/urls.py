from django.urls import path

from openiop.accounts import views

app_name = "accounts"

urlpatterns = [
    path("mfa/", views.mfa_settings, name="mfa-settings"),
    path("mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("mfa/recovery-codes/", views.recovery_codes_regenerate, name="recovery-codes"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
]
