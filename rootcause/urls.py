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
]
