from django.urls import path

from satupintu.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("in/<int:pk>/retry/", views.retry_inbound, name="retry_inbound"),
    path("in/<int:pk>/raw/", views.raw_inbound, name="raw_inbound"),
    path("out/<int:pk>/retry/", views.retry_outbound, name="retry_outbound"),
]
