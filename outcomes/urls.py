from django.urls import path

from outcomes import views

urlpatterns = [
    path("", views.category_list, name="category-list"),
    path("north-star/", views.north_star, name="north-star"),
    path("<slug:slug>/", views.canvas_detail, name="canvas-detail"),
    path("<slug:slug>/draft/", views.canvas_start_draft, name="canvas-draft"),
    path("<slug:slug>/edit/", views.canvas_edit, name="canvas-edit"),
    path("<slug:slug>/approve/", views.canvas_approve, name="canvas-approve"),
]
