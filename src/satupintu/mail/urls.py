from django.urls import path

from satupintu.mail import views

app_name = "mail"
urlpatterns = [
    path("", views.setup, name="setup"),
    path("addresses/new/", views.address_edit, name="address_new"),
    path("addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("mailboxes/new/", views.mailbox_edit, name="mailbox_new"),
    path("mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
]
