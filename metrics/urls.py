from django.urls import path

from metrics import views

urlpatterns = [
    path("", views.metric_list, name="metric-list"),
    path("new/", views.metric_edit, name="metric-create"),
    path("kpi-audit/", views.kpi_audit, name="kpi-audit"),
    path("business-impact/", views.business_impact, name="business-impact"),
    path("driver-analysis/", views.driver_analysis, name="driver-analysis"),
    path("imports/", views.import_list, name="import-list"),
    path("imports/template/", views.import_template, name="import-template"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("<slug:slug>/", views.metric_detail, name="metric-detail"),
    path("<slug:slug>/edit/", views.metric_edit, name="metric-edit"),
    path("<slug:slug>/schedule/", views.metric_schedule, name="metric-schedule"),
    path("<slug:slug>/schedule/preview/", views.metric_schedule_preview, name="metric-schedule-preview"),
    path("<slug:slug>/drivers/", views.key_drivers, name="metric-drivers"),
]
