from django.urls import path

from satupintu.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.team_queue, name="queue"),
    path("mine/", views.my_cases, name="mine"),
    path("new/", views.case_new, name="new"),
    path("saved-views/", views.post_saved_view, name="save_view"),
    path("saved-views/<int:pk>/delete/", views.delete_saved_view, name="delete_view"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/note/", views.post_note, name="note"),
    path("<str:reference>/reply/", views.post_reply, name="reply"),
    path("<str:reference>/status/", views.post_status, name="status"),
    path("<str:reference>/update/", views.post_update, name="update"),
    path("<str:reference>/links/", views.post_link, name="link"),
    path("<str:reference>/attachments/", views.post_attachment, name="attachments"),
]
