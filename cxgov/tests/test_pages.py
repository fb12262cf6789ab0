"""Pages: every one needs a login, the home page differs by role, lists keep their query count."""

import pytest

from cxgov.models import Accountability, Function, Membership, User

PAGES = ["/", "/functions/", "/functions/billing/", "/accountabilities/", "/people/", "/api/docs/"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_needs_a_login(org, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("username", ["admin", "cx", "leader", "stakeholder"])
def test_every_role_reads_every_page(org, client_for, url, username):
    assert client_for(org[username]).get(url).status_code == 200


def test_login_and_logout(org, client):
    response = client.post("/accounts/login/", {"username": "leader", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(org, client):
    response = client.post("/accounts/login/", {"username": "leader", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_change_password(org, client_for):
    client = client_for(org["leader"])
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "another-long-phrase-77",
            "new_password2": "another-long-phrase-77",
        },
    )
    assert response.status_code == 302
    org["leader"].refresh_from_db()
    assert org["leader"].check_password("another-long-phrase-77")


def test_home_differs_by_role(org, client_for):
    # Leaders work in their workspace, the CX team in triage, stakeholders read the executive view
    # (ownership app); administrators keep the organisation overview.
    leader_home = client_for(org["leader"]).get("/").content.decode()
    assert "Your workspace" in leader_home and "Invoice accuracy" in leader_home
    assert "System health" not in leader_home

    admin_home = client_for(org["admin"]).get("/").content.decode()
    assert "System health" in admin_home and "Functions without a leader" in admin_home
    assert "Customer Care" in admin_home  # no leader

    cx_home = client_for(org["cx"]).get("/").content.decode()
    assert "CX triage" in cx_home and "Issues without an owner" in cx_home
    assert "System health" not in cx_home

    stakeholder_home = client_for(org["stakeholder"]).get("/").content.decode()
    assert "Executive view" in stakeholder_home and "Who owns the open issues" in stakeholder_home
    assert "Assign ticked" not in stakeholder_home


def test_function_list_marks_customer_facing_and_lists_non_customer_facing_first(org, client_for):
    response = client_for(org["stakeholder"]).get("/functions/")
    names = [f.name for f in response.context["functions"]]
    assert names == ["Billing", "Logistics", "Customer Care"]
    html = response.content.decode()
    assert html.count("Non-customer-facing</span>") == 2
    assert html.count("Customer-facing</span>") == 1


def test_function_list_filters(org, client_for):
    response = client_for(org["cx"]).get("/functions/?customer_facing=yes")
    assert [f.name for f in response.context["functions"]] == ["Customer Care"]


def test_function_page_shows_leader_members_and_accountabilities(org, client_for):
    html = client_for(org["stakeholder"]).get("/functions/billing/").content.decode()
    assert "Leader" in html and str(org["leader"]) in html
    assert str(org["stakeholder"]) in html  # a member
    assert "Invoice accuracy" in html
    assert "Record one" not in html  # stakeholders read


def test_unknown_function_is_404(org, client_for):
    assert client_for(org["cx"]).get("/functions/nope/").status_code == 404


def test_one_accountable_per_subject_is_a_clear_error(org, client_for):
    response = client_for(org["cx"]).post(
        "/accountabilities/new/", {"function": org["logistics"].pk, "role": "A", "subject": "Invoice accuracy"}
    )
    assert response.status_code == 200
    assert "already Accountable" in response.content.decode()
    assert Accountability.objects.filter(subject="Invoice accuracy", role="A").count() == 1


def test_function_cannot_sit_under_its_own_child(org, client_for):
    org["logistics"].parent = org["billing"]
    org["logistics"].save()
    response = client_for(org["admin"]).post(
        "/functions/billing/edit/", {"name": "Billing", "slug": "billing", "parent": org["logistics"].pk}
    )
    assert response.status_code == 200
    assert "cannot sit under itself" in response.content.decode()
    org["billing"].refresh_from_db()
    assert org["billing"].parent is None


def _grow(n):
    """Add n functions, each with a leader, two members and an accountability."""
    for i in range(n):
        lead = User.objects.create(username=f"lead{i}-{User.objects.count()}")
        function = Function.objects.create(name=f"F{i}-{lead.username}", slug=f"f-{lead.username}", leader=lead)
        Membership.objects.create(person=lead, function=function)
        Membership.objects.create(person=User.objects.create(username=f"m-{lead.username}"), function=function)
        Accountability.objects.create(function=function, role="R", subject=f"S {lead.username}")


# Pinned: the same count with 2 extra functions and with 22 (session + user + the page's own).
@pytest.mark.parametrize(
    ("url", "queries"),
    [("/", 15), ("/functions/", 3), ("/functions/billing/", 7), ("/accountabilities/", 6), ("/people/", 5)],
)
def test_pages_keep_a_constant_number_of_queries(org, client_for, django_assert_num_queries, url, queries):
    client = client_for(org["admin"])
    client.get(url)  # warm caches (content types)
    for extra in (2, 20):
        _grow(extra)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200
