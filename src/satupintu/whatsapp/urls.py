from django.urls import path

from satupintu.whatsapp import views

app_name = "whatsapp"
urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/new/", views.account_edit, name="account_new"),
    path("accounts/<int:pk>/", views.account_edit, name="account_edit"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("cases/<str:reference>/panel/", views.case_panel, name="case_panel"),
    path("cases/<str:reference>/template/", views.case_template, name="case_template"),
    path("sandbox/", views.sandbox, name="sandbox"),
    path("sandbox/<str:phone_number_id>/messages", views.sandbox_messages,
         name="sandbox_messages"),
]
