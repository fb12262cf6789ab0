from django.urls import path

from digests import views

urlpatterns = [
    path("", views.preferences, name="digest-preferences"),
    path("preview/", views.preview, name="digest-preview"),
    path("deliveries/", views.deliveries, name="digest-deliveries"),
    path("defaults/", views.defaults, name="digest-defaults"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="digest-unsubscribe"),
]
