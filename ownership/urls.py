from django.urls import path

from ownership import views

app_name = "ownership"

urlpatterns = [
    path("", views.ownership_map, name="map"),
    path("export.<str:fmt>", views.map_export, name="map-export"),
    path("workspace/", views.workspace, name="workspace"),
    path("workspace/scorecard/", views.scorecard, name="scorecard"),
    path("workspace/issues/", views.workspace_issues, name="workspace-issues"),
    path("workspace/actions/<int:pk>/update/", views.item_update, name="item-update"),
    path("triage/", views.triage, name="triage"),
    path("triage/assign/", views.triage_assign, name="triage-assign"),
    path("triage/choices/<slug:kind>/", views.triage_choices, name="triage-choices"),
    path("executive/", views.executive, name="executive"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.<str:fmt>", views.ledger_export, name="ledger-export"),
    path("ledger/costs/", views.ledger_costs, name="ledger-costs"),
]
