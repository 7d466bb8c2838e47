from django.urls import path

from satupintu.knowledge import views_help

app_name = "help"

urlpatterns = [
    path("<slug:code>/", views_help.help_page, name="page"),
    path("<slug:code>/feedback/", views_help.help_feedback, name="feedback"),
    path("<slug:code>/person/", views_help.help_handoff, name="handoff"),
]
