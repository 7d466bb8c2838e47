from django.urls import path

from satupintu.wallboard import views

app_name = "wallboard"
urlpatterns = [
    path("", views.wallboard, name="board"),
    path("report/", views.report, name="report"),
    path("colours/", views.thresholds, name="thresholds"),
]
