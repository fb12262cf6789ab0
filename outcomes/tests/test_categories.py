"""Customer categories: written and deleted through the services; approved canvases are never lost."""

import pytest

from outcomes import services
from outcomes.models import Canvas, CustomerCategory


@pytest.fixture
def category(db):
    return CustomerCategory.objects.create(name="Month-to-month", slug="m2m")


def _approved(user, category):
    draft = services.canvas_draft(user=user, category=category)
    draft = services.canvas_save(
        user=user,
        canvas=draft,
        fields={"outcomes": "Online on day one"},
        measures=[],
        functions=[],
        needs=[],
        moments=[],
    )
    return services.canvas_approve(user=user, canvas=draft)


def test_cx_team_cannot_delete_a_category_with_an_approved_canvas(org, api_for, category):
    canvas = _approved(org["cx"], category)
    response = api_for(org["cx"]).delete("/api/customer-categories/m2m/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "“Month-to-month” has approved canvas versions (v1 approved); they are frozen and stay "
        "readable, so the category cannot be deleted."
    }
    assert Canvas.objects.filter(pk=canvas.pk, state="approved").exists()


def test_a_retired_canvas_keeps_its_category_too(org, api_for, category):
    services.canvas_retire(user=org["cx"], canvas=_approved(org["cx"], category))
    assert api_for(org["admin"]).delete("/api/customer-categories/m2m/").status_code == 409
    assert CustomerCategory.objects.filter(slug="m2m").exists()


def test_a_category_with_only_a_draft_is_deleted_with_it(org, api_for, category):
    services.canvas_draft(user=org["cx"], category=category)
    assert api_for(org["cx"]).delete("/api/customer-categories/m2m/").status_code == 204
    assert not CustomerCategory.objects.exists() and not Canvas.objects.exists()
    assert CustomerCategory.history.filter(slug="m2m", history_type="-", history_user=org["cx"]).exists()


@pytest.mark.parametrize("role", ["leader", "stakeholder"])
def test_leaders_and_stakeholders_neither_write_nor_delete_categories(org, api_for, category, role):
    api = api_for(org[role])
    assert api.delete("/api/customer-categories/m2m/").status_code == 403
    assert api.post("/api/customer-categories/", {"name": "Annual"}, format="json").status_code == 403
    assert CustomerCategory.objects.count() == 1


def test_categories_are_created_and_renamed_through_the_service(org, api_for, category):
    api = api_for(org["cx"])
    created = api.post("/api/customer-categories/", {"name": "Two-year contract"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "two-year-contract"
    renamed = api.patch("/api/customer-categories/m2m/", {"name": "Monthly"}, format="json")
    assert renamed.status_code == 200 and CustomerCategory.objects.get(slug="m2m").name == "Monthly"
    taken = api.post("/api/customer-categories/", {"name": "Monthly"}, format="json")
    assert taken.status_code == 400 and "name" in taken.json()
