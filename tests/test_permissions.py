"""The permissions matrix: what each role may change, through the module, the pages and the API."""

import re
from pathlib import Path

import pytest

from cxgov.lib import permissions
from cxgov.models import Accountability, Function


@pytest.mark.parametrize(
    ("username", "own_function", "other_function", "configure"),
    [
        ("admin", True, True, True),
        ("cx", True, True, False),
        ("leader", True, False, False),
        ("stakeholder", False, False, False),
    ],
)
def test_module_answers_per_role(org, username, own_function, other_function, configure):
    user = org[username]
    assert permissions.can_view(user, org["delivery"])
    assert permissions.can_change(user, org["invoice"]) is own_function
    assert permissions.can_change(user, org["delivery"]) is other_function
    assert permissions.can_configure_organisation(user) is configure


def test_inactive_user_may_do_nothing(org):
    org["admin"].is_active = False
    assert not permissions.can_view(org["admin"], org["invoice"])
    assert not permissions.can_change(org["admin"], org["invoice"])


def test_leader_may_edit_own_function_profile_only(org):
    assert permissions.can_change(org["leader"], org["billing"])
    assert not permissions.can_change(org["leader"], org["logistics"])
    assert not permissions.can_change(org["cx"], org["billing"])


def test_stakeholder_member_of_function_still_only_reads(org):
    assert org["billing"].pk in permissions.function_ids(org["stakeholder"])
    assert not permissions.can_change(org["stakeholder"], org["invoice"])


# --- by URL ---------------------------------------------------------------------------


def test_leader_cannot_edit_other_functions_accountability_by_url(org, client_for):
    client = client_for(org["leader"])
    url = f"/accountabilities/{org['delivery'].pk}/edit/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"function": org["logistics"].pk, "role": "A", "subject": "Hijacked"})
    assert response.status_code == 403
    org["delivery"].refresh_from_db()
    assert org["delivery"].subject == "On-time delivery"


def test_leader_cannot_delete_other_functions_accountability_by_url(org, client_for):
    response = client_for(org["leader"]).post(f"/accountabilities/{org['delivery'].pk}/delete/")
    assert response.status_code == 403
    assert Accountability.objects.filter(pk=org["delivery"].pk).exists()


def test_leader_cannot_record_accountability_for_other_function_by_url(org, client_for):
    response = client_for(org["leader"]).post(
        "/accountabilities/new/", {"function": org["logistics"].pk, "role": "R", "subject": "Planted"}
    )
    assert response.status_code == 200  # the form comes back with the error
    assert "Select a valid choice" in response.content.decode()
    assert not Accountability.objects.filter(subject="Planted").exists()


def test_leader_records_accountability_for_own_function(org, client_for):
    response = client_for(org["leader"]).post(
        "/accountabilities/new/", {"function": org["billing"].pk, "role": "R", "subject": "Dunning letters"}
    )
    assert response.status_code == 302
    assert Accountability.objects.get(subject="Dunning letters").function == org["billing"]


def test_leader_cannot_edit_other_function_by_url(org, client_for):
    client = client_for(org["leader"])
    response = client.post("/functions/logistics/edit/", {"description": "defaced"})
    assert response.status_code == 403
    org["logistics"].refresh_from_db()
    assert org["logistics"].description == ""


def test_leader_edits_only_description_of_own_function(org, client_for):
    client = client_for(org["leader"])
    response = client.post("/functions/billing/edit/", {"description": "Invoices.", "name": "Renamed"})
    assert response.status_code == 302
    org["billing"].refresh_from_db()
    assert (org["billing"].description, org["billing"].name) == ("Invoices.", "Billing")


def test_stakeholder_cannot_record_accountabilities(org, client_for):
    client = client_for(org["stakeholder"])
    assert client.get("/accountabilities/new/").status_code == 403
    assert client.post(f"/accountabilities/{org['invoice'].pk}/delete/").status_code == 403


def test_cx_team_records_accountability_for_any_function(org, client_for):
    response = client_for(org["cx"]).post(
        "/accountabilities/new/", {"function": org["logistics"].pk, "role": "C", "subject": "Invoice accuracy"}
    )
    assert response.status_code == 302
    assert Accountability.objects.filter(function=org["logistics"], role="C", subject="Invoice accuracy").exists()


@pytest.mark.parametrize("username", ["cx", "leader", "stakeholder"])
def test_only_administrators_configure_the_organisation_by_url(org, client_for, username):
    client = client_for(org[username])
    assert client.post("/functions/new/", {"name": "Shadow IT"}).status_code == 403
    assert client.get("/people/new/").status_code == 403
    assert not Function.objects.filter(name="Shadow IT").exists()


def test_administrator_creates_function_and_person(org, client_for):
    client = client_for(org["admin"])
    response = client.post("/functions/new/", {"name": "Legal & Compliance", "customer_facing": ""})
    assert response.status_code == 302
    legal = Function.objects.get(name="Legal & Compliance")
    assert legal.slug == "legal-compliance"
    response = client.post(
        "/people/new/",
        {
            "username": "counsel",
            "first_name": "Hannah",
            "role": "leader",
            "is_active": "on",
            "functions": [legal.pk],
            "password": "a-long-enough-secret-42",
        },
    )
    assert response.status_code == 302
    assert list(legal.members.values_list("username", flat=True)) == ["counsel"]


# --- by API ---------------------------------------------------------------------------


def test_leader_cannot_change_other_functions_accountability_by_api(org, api_for):
    api = api_for(org["leader"])
    url = f"/api/accountabilities/{org['delivery'].pk}/"
    assert api.patch(url, {"subject": "Hijacked"}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    org["delivery"].refresh_from_db()
    assert org["delivery"].subject == "On-time delivery"


def test_leader_cannot_move_own_accountability_to_other_function_by_api(org, api_for):
    api = api_for(org["leader"])
    response = api.patch(
        f"/api/accountabilities/{org['invoice'].pk}/", {"function": org["logistics"].pk}, format="json"
    )
    assert response.status_code == 403
    org["invoice"].refresh_from_db()
    assert org["invoice"].function == org["billing"]


def test_leader_cannot_create_accountability_for_other_function_by_api(org, api_for):
    response = api_for(org["leader"]).post(
        "/api/accountabilities/", {"function": org["logistics"].pk, "role": "R", "subject": "Planted"}, format="json"
    )
    assert response.status_code == 403
    assert not Accountability.objects.filter(subject="Planted").exists()


def test_leader_changes_own_accountability_by_api(org, api_for):
    response = api_for(org["leader"]).patch(
        f"/api/accountabilities/{org['invoice'].pk}/", {"note": "Checked monthly."}, format="json"
    )
    assert response.status_code == 200, response.content
    org["invoice"].refresh_from_db()
    assert org["invoice"].note == "Checked monthly."


@pytest.mark.parametrize("username", ["cx", "leader", "stakeholder"])
def test_only_administrators_change_functions_by_api(org, api_for, username):
    api = api_for(org[username])
    assert api.patch("/api/functions/billing/", {"name": "X"}, format="json").status_code == 403
    assert api.post("/api/functions/", {"name": "Shadow IT"}, format="json").status_code == 403
    assert (
        api.post(
            "/api/memberships/", {"person": org[username].pk, "function": org["logistics"].pk}, format="json"
        ).status_code
        == 403
    )
    assert Function.objects.get(slug="billing").name == "Billing"


def test_stakeholder_reads_but_cannot_write_by_api(org, api_for):
    api = api_for(org["stakeholder"])
    assert api.get("/api/accountabilities/").status_code == 200
    response = api.post(
        "/api/accountabilities/", {"function": org["billing"].pk, "role": "I", "subject": "Anything"}, format="json"
    )
    assert response.status_code == 403


def test_administrator_creates_function_by_api(org, api_for):
    response = api_for(org["admin"]).post(
        "/api/functions/", {"name": "Procurement", "customer_facing": False}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "procurement"


def test_membership_alone_gives_no_write_access(org, client_for):
    # The stakeholder is a member of Billing; a leader who is merely a member is no different.
    org["other_leader"].memberships.create(function=org["billing"])
    client = client_for(org["other_leader"])
    response = client.post(
        f"/accountabilities/{org['invoice'].pk}/edit/",
        {"function": org["billing"].pk, "role": "A", "subject": "Hijacked"},
    )
    assert response.status_code == 403


def test_replaced_leader_loses_write_access(org, client_for):
    org["billing"].leader = org["other_leader"]
    org["billing"].save()
    response = client_for(org["leader"]).post("/functions/billing/edit/", {"description": "still mine?"})
    assert response.status_code == 403


def test_leader_edits_own_function_description_by_api(org, api_for):
    api = api_for(org["leader"])
    assert api.patch("/api/functions/billing/", {"description": "Invoices."}, format="json").status_code == 200
    assert api.patch("/api/functions/logistics/", {"description": "x"}, format="json").status_code == 403
    org["billing"].refresh_from_db()
    assert org["billing"].description == "Invoices."


def test_administrator_cannot_take_over_a_superuser(org, client_for):
    root = org["cx"].__class__.objects.create_superuser("root", password="x-long-password-1")
    response = client_for(org["admin"]).post(
        f"/people/{root.pk}/edit/", {"username": "root", "role": "stakeholder", "is_active": "on"}
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_superuser


@pytest.mark.parametrize("value", ["²", "99999999999999999999999", "-1", "abc"])
def test_malformed_ids_in_query_strings_are_ignored(org, client_for, value):
    response = client_for(org["cx"]).get(f"/accountabilities/?function={value}")
    assert response.status_code == 200  # (a NUL in any value is a 400: cxgov/tests/test_request_bounds.py)


def test_an_administrator_made_in_the_app_can_edit_schedules_in_the_admin(org, client_for):
    from cxgov.models import User

    response = client_for(org["admin"]).post(
        "/people/new/",
        {"username": "ops", "role": "admin", "is_active": "on", "password": "a-long-enough-secret-42"},
    )
    assert response.status_code == 302
    ops = User.objects.get(username="ops")
    assert ops.is_staff and not ops.is_superuser
    assert client_for(ops).get("/admin/django_celery_beat/periodictask/").status_code == 200
    client_for(org["admin"]).post(
        f"/people/{ops.pk}/edit/", {"username": "ops", "role": "stakeholder", "is_active": "on"}
    )
    assert client_for(ops).get("/admin/django_celery_beat/periodictask/").status_code == 302


@pytest.mark.parametrize("value", ["²", "99999999999999999999999", "abc", "-3"])
def test_malformed_ids_elsewhere_give_a_page_not_a_crash(org, client_for, value):
    from outcomes.models import CustomerCategory

    CustomerCategory.objects.create(name="M", slug="m")
    client = client_for(org["cx"])
    assert client.get(f"/outcomes/m/?version={value}").status_code == 200
    assert client.post("/rootcause/tags/", {"response": value, "sub_theme": value}).status_code == 404


# --- the capability table ---------------------------------------------------------------------


def test_rules_come_from_the_table_so_changing_a_row_changes_pages_and_api(org, client_for, api_for, monkeypatch):
    """The table is the one place: take a capability away from the CX team there, and the page, the
    service and the template all follow."""
    from cxgov.lib.permissions import ADMIN, CAPABILITIES, Rule

    client = client_for(org["cx"])
    assert client.get("/rootcause/themes/drivers/new/").status_code == 200
    monkeypatch.setitem(CAPABILITIES, "edit_taxonomy", Rule(frozenset({ADMIN}), allows="test"))
    assert client.get("/rootcause/themes/drivers/new/").status_code == 403
    assert 'href="/rootcause/themes/drivers/new/"' not in client.get("/rootcause/themes/").content.decode()
    monkeypatch.setitem(CAPABILITIES, "write_canvases", Rule(frozenset({ADMIN}), allows="test"))
    response = api_for(org["cx"]).post("/api/customer-categories/", {"name": "Households"}, format="json")
    assert response.status_code == 403


def test_themes_no_longer_borrow_the_canvas_rule(org, monkeypatch):
    """Editing the taxonomy and writing canvases are separate rules that happen to share roles."""
    from cxgov.lib.permissions import ADMIN, CAPABILITIES, Rule

    monkeypatch.setitem(CAPABILITIES, "write_canvases", Rule(frozenset({ADMIN}), allows="test"))
    assert permissions.can_edit_taxonomy(org["cx"])
    assert not permissions.can_write_canvases(org["cx"])


def test_a_superuser_of_any_role_holds_what_administrators_hold(org):
    org["stakeholder"].is_superuser = True
    assert permissions.can_configure_organisation(org["stakeholder"])
    assert permissions.can_change(org["stakeholder"], org["delivery"])
    assert permissions.home_page(org["stakeholder"]) is None  # the organisation overview


def test_each_role_has_its_own_home(org):
    assert [permissions.home_page(org[name]) for name in ("admin", "cx", "leader", "stakeholder")] == [
        None,
        "triage",
        "workspace",
        "executive",
    ]


def test_holders_are_the_people_a_capability_can_be_given_to(org):
    assert set(permissions.holders("be_cx_owner")) == {org["admin"], org["cx"]}
    assert set(permissions.holders("lead_functions")) == {org["leader"], org["other_leader"]}
    org["cx"].is_active = False
    org["cx"].save()
    assert set(permissions.holders("be_cx_owner")) == {org["admin"]}


def test_leaders_hold_function_rules_only_for_the_functions_they_lead(org):
    leader = org["leader"]
    assert permissions.holds(leader, "change_function", org["billing"].pk)
    assert not permissions.holds(leader, "change_function", org["logistics"].pk)
    assert not permissions.holds(leader, "change_function", None)
    assert permissions.holds(leader, "change_function", anywhere=True)
    assert not permissions.holds(org["stakeholder"], "change_function", anywhere=True)


def test_the_template_filter_asks_the_table_and_refuses_unknown_names(org):
    from django.template import Context, Template, TemplateSyntaxError

    template = Template('{% load cxgov_tags %}{% if user|can:"import_data" %}yes{% else %}no{% endif %}')
    assert template.render(Context({"user": org["cx"]})) == "yes"
    assert template.render(Context({"user": org["leader"]})) == "no"
    with pytest.raises(TemplateSyntaxError, match="Unknown capability"):
        Template('{% load cxgov_tags %}{{ user|can:"import_dta" }}').render(Context({"user": org["cx"]}))


# Role comparisons: the permissions module decides; models define the roles (and what is kept per
# role, such as the built-in digest schedules); tests, the demo data and the benchmarks create people
# with roles.
ROLE_COMPARISON = re.compile(
    r"\.role\s*(==|!=|\bin\b)|\brole\s*(==|!=)\s*[\"']|Role\.(ADMINISTRATOR|CX_TEAM|LEADER|STAKEHOLDER)\b"
    r"|\.is_superuser\b|role__in\b|\buser\.role\b"
)
ROLE_COMPARISON_ALLOWED = (
    "cxgov/lib/permissions.py",
    "cxgov/demo.py",
    "conftest.py",
)


def test_no_role_comparison_outside_the_permissions_module():
    root = Path(__file__).resolve().parents[1]
    skipped = {"migrations", "tests", "bench", "var", "static", "node_modules"}
    top = [d for d in root.iterdir() if d.is_dir() and not d.is_symlink() and not d.name.startswith(".")]
    sources = [
        path
        for directory in top
        if directory.name not in skipped
        for path in directory.rglob("*")
        if path.suffix in (".py", ".html") and not skipped & set(path.relative_to(root).parts)
    ]
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sources
        if str(path.relative_to(root)) not in ROLE_COMPARISON_ALLOWED and path.name != "models.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ROLE_COMPARISON.search(line)
    ]
    assert len(sources) > 50
    assert not found, "Ask cxgov.lib.permissions instead:\n" + "\n".join(found)
