from django.urls import path

from satupintu.webchat import views

app_name = "webchat"

urlpatterns = [
    path("", views.agent_chats, name="chats"),
    path("widget.js", views.widget_js, name="widget_js"),
    path("w/<slug:code>/", views.widget_page, name="widget"),
    path("demo/", views.demo_site, name="demo"),
    path("setup/", views.widget_setup, name="setup"),
    path("setup/<slug:code>/", views.widget_setup_edit, name="setup_edit"),
    path("s/<int:pk>/reply/", views.agent_reply, name="reply"),
    path("s/<int:pk>/end/", views.agent_end, name="end"),
]
