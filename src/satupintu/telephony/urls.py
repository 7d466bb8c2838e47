from django.urls import path

from satupintu.telephony import views

app_name = "telephony"
urlpatterns = [
    path("", views.call_list, name="list"),
]
