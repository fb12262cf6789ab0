from django.urls import path

from rootcause import views

urlpatterns = [
    path("themes/", views.taxonomy, name="taxonomy"),
    path("themes/drivers/new/", views.driver_edit, name="driver-create"),
    path("themes/drivers/<int:pk>/", views.driver_edit, name="driver-edit"),
    path("themes/sub-themes/new/", views.sub_theme_edit, name="sub-theme-create"),
    path("themes/sub-themes/<int:pk>/", views.sub_theme_edit, name="sub-theme-edit"),
    path("untagged/", views.untagged, name="untagged"),
    path("tags/", views.tag, name="tag"),
    path("pareto/", views.pareto, name="pareto"),
    path("decision-points/", views.decision_points, name="decision-points"),
    path("workflows/new/", views.workflow_edit, name="workflow-create"),
    path("workflows/<int:pk>/", views.workflow_edit, name="workflow-edit"),
    path("decision-points/new/", views.decision_point_edit, name="decision-point-create"),
    path("decision-points/<int:pk>/", views.decision_point_edit, name="decision-point-edit"),
]
