from django.urls import path

from satupintu.knowledge import views, views_deviations, views_help, views_usage

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("settings/", views.settings_page, name="settings"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/diff/", views.diff, name="diff"),
    path("articles/<int:pk>/retire/", views.article_retire, name="retire"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/edit/", views.version_edit, name="edit"),
    path("versions/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("versions/<int:pk>/<slug:action>/", views.version_action, name="action"),
    path("acknowledgements/", views.pending, name="pending"),
    path("acknowledgements/teams/", views.team_report, name="team_report"),
    path("deviations/", views_deviations.deviation_list, name="deviations"),
    path("deviations/new/", views_deviations.deviation_new, name="deviation_new"),
    path("deviations/report/", views_deviations.report, name="deviation_report"),
    path("deviations/<int:pk>/", views_deviations.deviation_detail, name="deviation"),
    path("deviations/<int:pk>/decide/", views_deviations.deviation_decide,
         name="deviation_decide"),
    path("articles/<int:pk>/deviations/", views_deviations.review, name="deviation_review"),
    path("help-report/", views_help.help_report, name="help_report"),
    path("cases/<str:reference>/followed/", views_usage.case_followed, name="case_followed"),
]
