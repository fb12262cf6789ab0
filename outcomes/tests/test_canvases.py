"""Canvases: versioning, the checks the product makes, who may write, pages and API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cxgov.models import Accountability
from metrics.models import Metric
from outcomes import services
from outcomes.models import Canvas, CustomerCategory


@pytest.fixture
def category(db):
    return CustomerCategory.objects.create(name="Month-to-month", slug="m2m", data_category="Month-to-month")


@pytest.fixture
def outcome_metric(db):
    return Metric.objects.create(name="CSAT", slug="csat", calculator="csat", kind="outcome", north_star=True)


@pytest.fixture
def output_metric(db):
    return Metric.objects.create(name="Calls", slug="calls", calculator="count", source="calls", kind="output")


def _write(user, category, *, outcomes="Online on the promised day", measures=(), functions=()):
    draft = services.canvas_draft(user=user, category=category)
    return services.canvas_save(
        user=user,
        canvas=draft,
        fields={"who": "Households", "outcomes": outcomes},
        measures=list(measures),
        functions=list(functions),
        needs=[{"text": "Working on day one", "specific": True}],
        moments=[{"stage": "Delivery", "what_happens": "Router arrives", "functions": list(functions)}],
    )


def test_approving_freezes_a_version_and_editing_starts_the_next(org, category, outcome_metric):
    v1 = _write(org["cx"], category, measures=[outcome_metric], functions=[org["logistics"]])
    services.canvas_approve(user=org["cx"], canvas=v1)
    with pytest.raises(ValidationError, match="frozen"):
        services.canvas_save(
            user=org["cx"], canvas=v1, fields={"who": "changed"}, measures=[], functions=[], needs=[], moments=[]
        )
    v2 = services.canvas_draft(user=org["cx"], category=category)
    assert (v2.version, v2.who, list(v2.measures.all())) == (2, "Households", [outcome_metric])
    assert [n.text for n in v2.needs.all()] == ["Working on day one"]
    assert list(v2.moments.get().functions.all()) == [org["logistics"]]
    services.canvas_save(
        user=org["cx"],
        canvas=v2,
        fields={"who": "Students", "outcomes": "Online"},
        measures=[],
        functions=[],
        needs=[],
        moments=[],
    )
    services.canvas_approve(user=org["cx"], canvas=v2)
    v1.refresh_from_db()
    assert (v1.state, v1.who, v1.needs.count(), list(v1.measures.all())) == (
        "retired",
        "Households",
        1,
        [outcome_metric],
    )
    assert Canvas.objects.get(category=category, state="approved").version == 2


def test_approval_records_the_accountable_functions(org, category, outcome_metric):
    canvas = _write(org["cx"], category, measures=[outcome_metric], functions=[org["billing"], org["logistics"]])
    services.canvas_approve(user=org["cx"], canvas=canvas)
    entries = Accountability.objects.filter(subject="Outcome canvas: Month-to-month")
    assert sorted(e.function.slug for e in entries) == ["billing", "logistics"]


def test_a_canvas_needs_an_outcome_statement_to_be_approved(org, category):
    canvas = _write(org["cx"], category, outcomes="")
    with pytest.raises(ValidationError, match="outcome statement"):
        services.canvas_approve(user=org["cx"], canvas=canvas)


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_cx_and_administrators_write_canvases(org, category, client_for, username):
    with pytest.raises(PermissionDenied):
        services.canvas_draft(user=org[username], category=category)
    client = client_for(org[username])
    assert client.post(f"/outcomes/{category.slug}/draft/").status_code == 403
    assert client.get(f"/outcomes/{category.slug}/edit/").status_code == 403
    assert client.get(f"/outcomes/{category.slug}/").status_code == 200


def test_flags_for_missing_outcome_measures_and_categories_without_canvas(
    org, client_for, category, outcome_metric, output_metric
):
    bare = CustomerCategory.objects.create(name="Two year", slug="two-year", data_category="Two year")
    outputs = CustomerCategory.objects.create(name="One year", slug="one-year", data_category="One year")
    _write(org["cx"], category, measures=[outcome_metric, output_metric])
    _write(org["cx"], outputs, measures=[output_metric])
    rows = {c.slug: c.flags for c in client_for(org["stakeholder"]).get("/outcomes/").context["categories"]}
    assert rows == {
        "m2m": [],
        "one-year": ["No outcome measure", "All measures are outputs"],
        "two-year": ["No canvas yet"],
    }
    assert bare.canvases.count() == 0


def test_cx_writes_and_approves_through_the_pages(org, client_for, category, outcome_metric):
    client = client_for(org["cx"])
    client.post(f"/outcomes/{category.slug}/draft/")
    form = {
        "who": "Households",
        "outcomes": "Online on day one",
        "measures": [outcome_metric.pk],
        "accountable_functions": [org["billing"].pk],
        "needs-TOTAL_FORMS": "1",
        "needs-INITIAL_FORMS": "0",
        "needs-0-text": "Working on day one",
        "needs-0-specific": "on",
        "needs-0-measurable": "on",
        "needs-0-achievable": "on",
        "needs-0-relevant": "on",
        "needs-0-time_bound": "on",
        "needs-0-due_on": "2027-03-31",
        "moments-TOTAL_FORMS": "0",
        "moments-INITIAL_FORMS": "0",
    }
    assert client.post(f"/outcomes/{category.slug}/edit/", form).status_code == 302
    assert client.post(f"/outcomes/{category.slug}/approve/").status_code == 302
    page = client.get(f"/outcomes/{category.slug}/")
    assert page.context["canvas"].state == "approved" and page.context["canvas"].needs.get().is_smart
    html = client.get("/outcomes/north-star/").content.decode()
    assert "Month-to-month" in html and "Billing" in html
    assert "Month-to-month canvas" in client.get("/functions/billing/").content.decode()


def test_api_lists_versions(org, api_for, category, outcome_metric):
    canvas = _write(org["cx"], category, measures=[outcome_metric])
    services.canvas_approve(user=org["cx"], canvas=canvas)
    services.canvas_draft(user=org["cx"], category=category)
    data = api_for(org["stakeholder"]).get("/api/canvases/?category_slug=m2m").json()
    assert [(c["version"], c["state"]) for c in data["results"]] == [(2, "draft"), (1, "approved")]
    assert api_for(org["leader"]).post("/api/customer-categories/", {"name": "X", "slug": "x"}).status_code == 403
    assert api_for(org["cx"]).post("/api/customer-categories/", {"name": "X", "slug": "x"}).status_code == 201


@pytest.mark.parametrize(
    ("url", "queries"),
    [("/outcomes/", 7), ("/outcomes/m2m/", 16), ("/outcomes/north-star/", 9), ("/api/canvases/", 9)],
)
def test_outcome_pages_keep_a_constant_number_of_queries(
    org, client_for, category, outcome_metric, django_assert_num_queries, url, queries
):
    from datetime import date

    from rootcause.models import ActionItem, Issue

    def issue(n):
        opened = Issue.objects.create(title=f"Issue {n}", metric=outcome_metric, function=org["billing"])
        ActionItem.objects.create(issue=opened, title="Late", function=org["billing"], due_date=date(2026, 1, n))

    client = client_for(org["admin"])
    first = _write(org["cx"], category, measures=[outcome_metric], functions=[org["billing"]])
    services.canvas_approve(user=org["cx"], canvas=first)
    issue(1)
    client.get(url)
    for batch in range(2):
        for i in range(3):
            extra = CustomerCategory.objects.create(name=f"C{batch}{i}", slug=f"c{batch}{i}", data_category="x")
            canvas = _write(org["cx"], extra, measures=[outcome_metric], functions=[org["billing"], org["logistics"]])
            services.canvas_approve(user=org["cx"], canvas=canvas)
            issue(2 + i)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


def test_the_page_offers_the_open_draft_next_to_the_approved_canvas(org, client_for, category, outcome_metric):
    services.canvas_approve(user=org["cx"], canvas=_write(org["cx"], category, measures=[outcome_metric]))
    services.canvas_draft(user=org["cx"], category=category)
    html = client_for(org["cx"]).get(f"/outcomes/{category.slug}/").content.decode()
    assert "v1 · Approved" in html
    assert "Edit draft v2" in html and "Approve v2" in html and "See draft v2" in html
    assert "Start a new draft" not in html
    assert "Edit draft" not in client_for(org["leader"]).get(f"/outcomes/{category.slug}/").content.decode()


def test_the_edit_form_shows_the_drafts_measures_and_functions_checked(org, client_for, category, outcome_metric):
    services.canvas_approve(
        user=org["cx"], canvas=_write(org["cx"], category, measures=[outcome_metric], functions=[org["billing"]])
    )
    services.canvas_draft(user=org["cx"], category=category)
    form = client_for(org["cx"]).get(f"/outcomes/{category.slug}/edit/").context["form"]
    html = str(form)
    assert f'value="{org["billing"].pk}"' in html and f'value="{org["logistics"].pk}"' in html
    checked = {str(w.data["value"]) for w in form["accountable_functions"] if w.data["selected"]}
    assert checked == {str(org["billing"].pk)}
    assert {str(w.data["value"]) for w in form["measures"] if w.data["selected"]} == {str(outcome_metric.pk)}
    assert "CSAT (outcome)" in html


def test_api_writes_a_draft_approves_it_and_keeps_approved_versions_frozen(org, api_for, category, outcome_metric):
    api = api_for(org["cx"])
    created = api.post(
        "/api/canvases/",
        {
            "category": category.pk,
            "who": "Households on monthly plans",
            "outcomes": "Online on day one",
            "measures": [outcome_metric.pk],
            "accountable_functions": [org["billing"].pk],
            "needs": [{"text": "Working on day one", "specific": True, "due_on": "2027-03-31"}],
            "moments": [{"stage": "Delivery", "what_happens": "Router arrives", "functions": [org["logistics"].pk]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["version"], body["state"]) == (1, "draft") and body["needs"][0]["text"] == "Working on day one"
    pk = body["id"]
    patched = api.patch(f"/api/canvases/{pk}/", {"service": "Fewer calls"}, format="json").json()
    assert patched["service"] == "Fewer calls" and patched["measures"] == [outcome_metric.pk]
    assert patched["moments"][0]["functions"] == [org["logistics"].pk]  # lists left out are kept
    approved = api.post(f"/api/canvases/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    frozen = api.patch(f"/api/canvases/{pk}/", {"who": "Changed"}, format="json")
    assert frozen.status_code == 400 and "frozen" in str(frozen.json())
    assert Canvas.objects.get(pk=pk).who == "Households on monthly plans"
    nxt = api.post("/api/canvases/", {"category": category.pk, "who": "Next"}, format="json").json()
    assert (nxt["version"], nxt["state"], nxt["outcomes"]) == (2, "draft", "Online on day one")
    assert Canvas.objects.get(pk=pk).who == "Households on monthly plans"
    bad = api.post("/api/canvases/", {"category": category.pk, "needs": [{"specific": True}]}, format="json")
    assert bad.status_code == 400 and "text" in str(bad.json()["needs"]), bad.json()


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_api_canvas_writes_are_for_cx_and_administrators(org, api_for, category, username):
    api = api_for(org[username])
    assert api.post("/api/canvases/", {"category": category.pk}, format="json").status_code == 403
    assert not Canvas.objects.exists()


def test_line_of_sight_shows_open_issues_and_overdue_items_touching_the_measures(
    org, client_for, category, outcome_metric
):
    from datetime import date

    from rootcause.models import ActionItem, Issue

    services.canvas_approve(
        user=org["cx"], canvas=_write(org["cx"], category, measures=[outcome_metric], functions=[org["billing"]])
    )
    mine = Issue.objects.create(title="Mixed bills hurt CSAT", metric=outcome_metric, function=org["billing"])
    ActionItem.objects.create(issue=mine, title="Fix invoice run", function=org["billing"], due_date=date(2026, 1, 1))
    Issue.objects.create(title="Late routers hurt CSAT", metric=outcome_metric, function=org["logistics"])
    Issue.objects.create(title="Closed one", metric=outcome_metric, function=org["billing"], state="closed_effective")
    html = client_for(org["stakeholder"]).get("/outcomes/north-star/").content.decode()
    assert "Mixed bills hurt CSAT" in html and "Late routers hurt CSAT" in html and "Closed one" not in html
    assert "Overdue since 1 Jan 2026: Fix invoice run" in html and "1 overdue action item" in html
    page = client_for(org["stakeholder"]).get("/functions/billing/").content.decode()
    assert "Mixed bills hurt CSAT" in page and "Late routers hurt CSAT" not in page
