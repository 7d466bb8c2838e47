from django.urls import path

from satupintu.portal import views

app_name = "portal"

urlpatterns = [
    path("contact/<slug:code>/", views.contact, name="contact"),
    path("contact/<slug:code>/thanks/<str:token>/", views.thanks, name="thanks"),
    path("status/", views.status_lookup, name="lookup"),
    path("status/code/", views.status_code, name="code"),
    path("status/case/", views.status_granted, name="granted"),
    path("status/case/reply/", views.granted_reply, name="granted_reply"),
    path("status/<str:token>/", views.status_link, name="status"),
    path("status/<str:token>/reply/", views.status_reply, name="status_reply"),
]
