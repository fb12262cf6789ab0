"""The Django admin browses the product's records but never changes them around the services."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from cxgov import services as cxgov_services
from cxgov.models import Accountability, Function
from outcomes.models import Canvas, CustomerCategory
from rootcause.models import ActionItem, Issue, KeyDriver, SubTheme

OUR_APPS = {"cxgov", "metrics", "rootcause", "outcomes", "alerts", "digests"}


@pytest.fixture
def staff(org):
    """The administrator as person_save makes them: staff, with the admin's permissions."""
    return cxgov_services.person_save(user=org["admin"], person=org["admin"], fields={}, function_ids=set())


@pytest.fixture
def records(org):
    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="late")
    issue = Issue.objects.create(title="Late parcels", function=org["logistics"])
    item = ActionItem.objects.create(issue=issue, title="Cut-off", function=org["logistics"], due_date="2026-12-01")
    category = CustomerCategory.objects.create(name="Month-to-month", slug="m2m")
    return {
        "issue": issue,
        "item": item,
        "driver": driver,
        "canvas": Canvas.objects.create(category=category, version=1),
        "function": org["billing"],
        "register": org["invoice"],
    }


def test_every_model_of_ours_in_the_admin_is_view_only(staff):
    request = RequestFactory().get("/admin/")
    request.user = staff
    ours = [(model, model_admin) for model, model_admin in admin.site._registry.items()]
    ours = [(m, a) for m, a in ours if m._meta.app_label in OUR_APPS]
    assert len(ours) >= 15
    for model, model_admin in ours:
        label = model._meta.label
        assert model_admin.has_view_permission(request), label
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label
        for inline in model_admin.get_inline_instances(request):
            assert not inline.has_change_permission(request) and not inline.has_add_permission(request, None), label


@pytest.mark.parametrize("name", ["issue", "item", "driver", "canvas", "function", "register"])
def test_administrator_browses_but_cannot_change_add_or_delete_in_the_admin(staff, client_for, records, name):
    obj = records[name]
    base = f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/"
    client = client_for(staff)
    assert client.get(base).status_code == 200
    page = client.get(f"{base}{obj.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert client.post(f"{base}{obj.pk}/change/", {"title": "Changed", "name": "Changed"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_reverting_from_the_history_in_the_admin_is_refused(staff, client_for, records):
    issue = records["issue"]
    Issue.objects.filter(pk=issue.pk).update(title="Late parcels (renamed)")
    version = issue.history.earliest()
    url = f"/admin/rootcause/issue/{issue.pk}/history/{version.history_id}/"
    client = client_for(staff)
    assert client.get(url).status_code == 200
    request = RequestFactory().get(url)
    request.user = staff
    form = admin.site._registry[Issue].get_form(request, version.instance)(instance=version.instance)
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    assert form.__class__(data, instance=version.instance).is_valid()  # a revert the form would accept
    reverted = client.post(url, data)
    assert reverted.status_code == 403
    assert Issue.objects.get(pk=issue.pk).title == "Late parcels (renamed)"


def test_register_and_functions_keep_their_rows_after_admin_attempts(staff, client_for, org):
    client = client_for(staff)
    client.post(f"/admin/cxgov/function/{org['billing'].pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/cxgov/accountability/",
        {"action": "delete_selected", "_selected_action": [org["invoice"].pk], "post": "yes"},
    )
    assert Function.objects.filter(pk=org["billing"].pk).exists()
    assert Accountability.objects.filter(pk=org["invoice"].pk).exists()
