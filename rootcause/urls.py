from django.urls import path

from rootcause import views

urlpatterns = [
    path("themes/", views.taxonomy, name="taxonomy"),
    path("untagged/", views.untagged, name="untagged"),
    path("tags/", views.tag, name="tag"),
    path("pareto/", views.pareto, name="pareto"),
]
