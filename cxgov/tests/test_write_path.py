"""One write path: functions and memberships change through services; refusals are JSON with a reason."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError

from cxgov.lib.api_errors import exception_handler
from cxgov.lib.services import model_update
from cxgov.models import Accountability, Function, Membership
from rootcause.models import Issue, Workflow


def test_leader_cannot_delete_the_function_they_lead(org, api_for):
    response = api_for(org["leader"]).delete("/api/functions/billing/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only administrators change the organisation's configuration."}
    assert Function.objects.filter(slug="billing").exists()
    assert Membership.objects.filter(function=org["billing"]).count() == 2
    assert Accountability.objects.filter(function=org["billing"]).exists()


def test_leader_still_edits_their_functions_description(org, api_for):
    response = api_for(org["leader"]).patch("/api/functions/billing/", {"description": "Bills"}, format="json")
    assert response.status_code == 200 and Function.objects.get(slug="billing").description == "Bills"


@pytest.mark.parametrize("role", ["cx", "other_leader", "stakeholder"])
def test_only_administrators_delete_functions(org, api_for, role):
    assert api_for(org[role]).delete("/api/functions/customer-care/").status_code == 403
    assert Function.objects.filter(slug="customer-care").exists()


def test_administrator_deletes_a_function_nothing_refers_to(org, api_for):
    Membership.objects.create(person=org["cx"], function=org["care"])
    assert api_for(org["admin"]).delete("/api/functions/customer-care/").status_code == 204
    assert not Function.objects.filter(slug="customer-care").exists()
    assert not Membership.objects.filter(person=org["cx"]).exists()
    assert Membership.history.filter(person_id=org["cx"].pk, history_type="-", history_user=org["admin"]).exists()
    assert Function.history.filter(slug="customer-care", history_type="-", history_user=org["admin"]).exists()


def test_a_function_with_register_entries_is_kept_with_a_409(org, api_for):
    response = api_for(org["admin"]).delete("/api/functions/billing/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Billing still has 1 entry in the accountability register: move or remove them first; "
        "nothing was deleted."
    }
    assert Accountability.objects.filter(function=org["billing"]).exists()
    assert Membership.objects.filter(function=org["billing"]).count() == 2


def test_a_function_with_workflows_or_issues_is_kept_with_a_409_not_a_500(org, api_for):
    Workflow.objects.create(name="Complaint handling", function=org["care"])
    Issue.objects.create(title="Long hold times", function=org["care"])
    response = api_for(org["admin"]).delete("/api/functions/customer-care/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Customer Care still has 1 workflow, 1 issue: move or remove them first; nothing was deleted."
    }
    assert Function.objects.filter(slug="customer-care").exists()


def test_membership_changes_go_through_the_service(org, api_for):
    admin = api_for(org["admin"])
    created = admin.post(
        "/api/memberships/", {"person": org["cx"].pk, "function": org["care"].pk, "position": "Coach"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Membership.history.filter(id=pk, history_type="+").exists()
    assert api_for(org["leader"]).delete(f"/api/memberships/{pk}/").status_code == 403
    assert admin.delete(f"/api/memberships/{pk}/").status_code == 204
    assert not Membership.objects.filter(pk=pk).exists()


def test_a_duplicate_membership_is_a_400(org, api_for):
    again = {"person": org["leader"].pk, "function": org["billing"].pk}
    response = api_for(org["admin"]).post("/api/memberships/", again, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()


# --- the exception handler ------------------------------------------------------------------------


def _answer(exc):
    response = exception_handler(exc, {})
    return response.status_code, response.data


def test_django_validation_errors_become_field_errors():
    assert _answer(ValidationError({"title": "Too long."})) == (400, {"title": ["Too long."]})
    assert _answer(ValidationError("Closed.")) == (400, {"non_field_errors": ["Closed."]})


def test_permission_refusals_become_403_with_the_reason():
    assert _answer(PermissionDenied("Not yours.")) == (403, {"detail": "Not yours."})


def test_protected_deletes_and_integrity_clashes_become_409():
    assert _answer(ProtectedError("Still used by workflows.", set())) == (409, {"detail": "Still used by workflows."})
    status, data = _answer(IntegrityError('duplicate key value violates unique constraint "x"'))
    assert status == 409 and "constraint" not in data["detail"] and "nothing was changed" in data["detail"]


def test_other_errors_are_left_to_the_server():
    assert exception_handler(ZeroDivisionError(), {}) is None


def test_leader_puts_their_function_back_with_a_new_description(org, api_for):
    """A full PUT sends the structure unchanged: only what changes decides who may save it."""
    api = api_for(org["leader"])
    current = api.get("/api/functions/billing/").json()
    body = {name: current[name] for name in ("name", "slug", "customer_facing", "parent", "leader")}
    body["description"] = "Bills, refunds"
    response = api.put("/api/functions/billing/", body, format="json")
    assert response.status_code == 200, response.content
    renamed = api.put("/api/functions/billing/", body | {"name": "Billing and refunds"}, format="json")
    assert renamed.status_code == 403
    assert Function.objects.get(slug="billing").name == "Billing"


def test_model_update_sets_known_fields_and_names_the_changed_ones(org):
    function = Function.objects.get(slug="billing")
    changed = model_update(function, {"name": "Billing", "leader": org["cx"]}, fields=("name", "leader"))
    assert changed == ["leader"] and function.leader == org["cx"]
    with pytest.raises(ValidationError, match="Unknown function fields: slug."):
        model_update(function, {"slug": "x"}, fields=("name",))


def test_a_person_service_caller_cannot_slip_in_the_superuser_flag(org):
    from cxgov import services

    with pytest.raises(ValidationError, match="Unknown user fields: is_superuser."):
        services.person_save(
            user=org["admin"], person=org["cx"], fields={"title": "Lead", "is_superuser": True}, function_ids=set()
        )
    org["cx"].refresh_from_db()
    assert not org["cx"].is_superuser and org["cx"].title == ""
