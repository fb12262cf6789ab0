from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cxgov import views
from metrics import views as metrics_views

urlpatterns = [
    path("", views.home, name="home"),
    path("functions/", views.function_list, name="function-list"),
    path("functions/new/", views.function_edit, name="function-create"),
    path("functions/<slug:slug>/", views.function_detail, name="function-detail"),
    path("functions/<slug:slug>/edit/", views.function_edit, name="function-edit"),
    path("accountabilities/", views.accountability_list, name="accountability-list"),
    path("accountabilities/new/", views.accountability_edit, name="accountability-create"),
    path("accountabilities/<int:pk>/edit/", views.accountability_edit, name="accountability-edit"),
    path("accountabilities/<int:pk>/delete/", views.accountability_delete, name="accountability-delete"),
    path("people/", views.people_list, name="people"),
    path("people/new/", views.person_edit, name="person-create"),
    path("people/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("demo/", metrics_views.demo_about, name="demo-about"),
    path("metrics/", include("metrics.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("rootcause/", include("rootcause.urls")),
    path("digests/", include("digests.urls")),
    path("alerts/", include("alerts.urls")),
    path("ownership/", include("ownership.urls")),
    path("audit/", include("audit.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("api/", include(("cxgov.api_urls", "api"))),
    path("admin/", admin.site.urls),
]

handler404 = "cxgov.views.not_found"
