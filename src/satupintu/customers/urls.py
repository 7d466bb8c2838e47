from django.urls import path

from satupintu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/identities/", views.add_identity, name="add_identity"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/merge/", views.merge, name="merge"),
]
