from django.urls import path

from rootcause import views

urlpatterns = [
    path("themes/", views.taxonomy, name="taxonomy"),
    path("themes/drivers/new/", views.driver_edit, name="driver-create"),
    path("themes/drivers/<int:pk>/", views.driver_edit, name="driver-edit"),
    path("themes/sub-themes/new/", views.sub_theme_edit, name="sub-theme-create"),
    path("themes/sub-themes/<int:pk>/", views.sub_theme_edit, name="sub-theme-edit"),
    path("comments/", views.comments, name="comments"),
    path("comments/bulk/", views.comments_bulk, name="comments-bulk"),
    path("comments/jobs/<int:pk>/", views.bulk_job_progress, name="bulk-job-progress"),
    path("untagged/", views.untagged, name="untagged"),
    path("tags/", views.tag, name="tag"),
    path("pareto/", views.pareto, name="pareto"),
    path("decision-points/", views.decision_points, name="decision-points"),
    path("workflows/new/", views.workflow_edit, name="workflow-create"),
    path("workflows/<int:pk>/", views.workflow_edit, name="workflow-edit"),
    path("decision-points/new/", views.decision_point_edit, name="decision-point-create"),
    path("decision-points/<int:pk>/", views.decision_point_edit, name="decision-point-edit"),
    path("issues/", views.issue_list, name="issue-list"),
    path("issues/new/", views.issue_create, name="issue-create"),
    path("issues/<int:pk>/", views.issue_detail, name="issue-detail"),
    path("issues/<int:pk>/edit/", views.issue_edit, name="issue-edit"),
    path("issues/<int:pk>/whys/", views.issue_whys, name="issue-whys"),
    path("issues/<int:pk>/state/", views.issue_state, name="issue-state"),
    path("issues/<int:pk>/verify/", views.issue_verify, name="issue-verify"),
    path("issues/<int:issue_pk>/actions/new/", views.action_item_edit, name="action-item-create"),
    path("actions/<int:pk>/", views.action_item_edit, name="action-item-edit"),
    path("actions/<int:pk>/update/", views.action_item_update, name="action-item-update"),
    path("actions/<int:pk>/history/", views.action_item_history, name="action-item-history"),
    path("themes/retagging/", views.retag_progress, name="retag-progress"),
]
