from django.urls import path

from satupintu.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("audit/", views.audit, name="audit"),
]
