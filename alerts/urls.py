from django.urls import path

from alerts import views

urlpatterns = [
    path("", views.alert_inbox, name="alert-inbox"),
    path("<int:pk>/", views.alert_detail, name="alert-detail"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("<int:pk>/mute/", views.alert_mute, name="alert-mute"),
    path("metric/<slug:slug>/", views.rule_list, name="alert-rules"),
    path("metric/<slug:slug>/new/", views.rule_edit, name="alert-rule-create"),
    path("metric/<slug:slug>/new/preview/", views.rule_preview, name="alert-rule-create-preview"),
    path("rules/", views.rule_index, name="alert-rule-index"),
    path("rules/<int:pk>/", views.rule_detail, name="alert-rule-detail"),
    path("rules/<int:pk>/replay/", views.rule_replay, name="alert-rule-replay"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="alert-rule-edit"),
    path("rules/<int:pk>/edit/preview/", views.rule_preview, name="alert-rule-edit-preview"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="alert-rule-delete"),
]
