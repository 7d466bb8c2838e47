from django.urls import path

from satupintu.accounts.views import account, auth

app_name = "accounts"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("mfa/verify/", auth.mfa_verify, name="mfa_verify"),
    path("mfa/setup/", auth.mfa_setup, name="mfa_setup"),
    path("security/", account.security, name="security"),
    path("security/recovery-codes/", account.regenerate_codes, name="regenerate_codes"),
    path("sessions/<int:pk>/end/", account.end_session, name="end_session"),
    path("sessions/all/", account.all_sessions, name="all_sessions"),
    path("sessions/all/<int:pk>/end/", account.admin_end_session, name="admin_end_session"),
    path("tokens/", account.api_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account.revoke_token, name="revoke_token"),
    path("language/", account.set_language, name="set_language"),
]
