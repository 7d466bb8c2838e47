from django.urls import path

from satupintu.routing import views

app_name = "routing"

urlpatterns = [
    path("", views.setup_index, name="setup"),
    path("clients/<int:client_id>/", views.client_setup, name="client"),
    path("clients/<int:client_id>/queues/new/", views.queue_edit, name="queue_new"),
    path("clients/<int:client_id>/queues/<int:pk>/", views.queue_edit, name="queue_edit"),
    path("clients/<int:client_id>/settings/", views.settings_edit, name="settings"),
    path("clients/<int:client_id>/reasons/new/", views.reason_edit, name="reason_new"),
    path("clients/<int:client_id>/reasons/<int:pk>/", views.reason_edit, name="reason_edit"),
    path("clients/<int:client_id>/rules/", views.rules_edit, name="rules"),
    path("clients/<int:client_id>/rules/validate/", views.rules_validate,
         name="rules_validate"),
    path("clients/<int:client_id>/rules/preview/", views.rules_preview, name="rules_preview"),
    path("clients/<int:client_id>/rules/history/", views.rules_history, name="rules_history"),
    path("clients/<int:client_id>/rules/v<int:number>/", views.rules_version,
         name="rules_version"),
    path("presence/", views.presence_bar, name="bar"),
    path("presence/state/", views.presence_state, name="state"),
    path("presence/heartbeat/", views.presence_heartbeat, name="heartbeat"),
    path("presence/leave/", views.presence_leave, name="leave"),
    path("work/<int:pk>/accept/", views.work_accept, name="accept"),
    path("work/<int:pk>/decline/", views.work_decline, name="decline"),
    path("work/<int:pk>/done/", views.work_done, name="done"),
    path("work/<int:pk>/reassign/", views.work_reassign, name="reassign"),
    path("wrap-up/end/", views.wrap_up_end, name="end_wrap_up"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/state/", views.team_state, name="team_state"),
]
