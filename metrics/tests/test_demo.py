"""The demo loader: idempotent, real figures from ../shared/data, and fine without that folder."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db.models import Count, Sum

from cxgov.models import Accountability, Function, Membership, User
from metrics.demo import SNAPSHOT, derive_subscribers, review_writers
from metrics.models import Customer, SurveyResponse


def _snapshot():
    return {
        "functions": list(Function.objects.values_list("slug", "leader__username", "parent__slug")),
        "people": list(User.objects.values_list("username", "role", "password")),
        "memberships": Membership.objects.count(),
        "accountabilities": list(Accountability.objects.values_list("function__slug", "role", "subject", "note")),
        "customers": list(Customer.objects.values_list("external_id", "category", "started_on", "ended_on")),
        "responses": list(SurveyResponse.objects.values_list("external_id", "responded_at", "score")),
    }


@pytest.fixture
def loaded(db, settings, capsys):
    call_command("load_demo")
    return capsys.readouterr().out


def test_demo_runs_twice_and_changes_nothing(loaded):
    before = _snapshot()
    call_command("load_demo")
    assert _snapshot() == before


def test_demo_has_one_user_per_role_and_mostly_non_customer_facing_functions(loaded):
    roles = set(
        User.objects.filter(username__in=["admin", "cx", "leader", "stakeholder"]).values_list("role", flat=True)
    )
    assert roles == {"admin", "cx", "leader", "stakeholder"}
    assert 10 <= Function.objects.count() <= 16
    assert (
        Function.objects.filter(customer_facing=False).count()
        > 2 * Function.objects.filter(customer_facing=True).count()
    )
    assert User.objects.get(username="leader").check_password("cxgov-demo")
    assert "Log in as admin, cx, leader, stakeholder" in loaded


def test_demo_subscribers_match_the_published_telco_facts(loaded):
    assert Customer.objects.count() == 7043
    assert Customer.objects.filter(ended_on__isnull=False).count() == 1869
    month_to_month = Customer.objects.filter(category="Month-to-month")
    assert month_to_month.count() == 3875
    assert month_to_month.filter(ended_on__isnull=False).count() == 1655
    churned_revenue = Customer.objects.filter(ended_on__isnull=False).aggregate(s=Sum("monthly_revenue"))["s"]
    assert churned_revenue == Decimal("139130.85")
    # Cancellations fall in the twelve months up to the snapshot, each on a month's last day, and
    # every subscriber subscribed "tenure" months before they left (or before the snapshot).
    ended = list(Customer.objects.filter(ended_on__isnull=False).values_list("ended_on", flat=True))
    assert {d.replace(day=1) for d in ended} == {_month(SNAPSHOT, -k) for k in range(12)}
    assert all((d + timedelta(days=1)).day == 1 for d in ended)
    assert max(Counter(d.month for d in ended).values()) < 2 * 1869 / 12  # spread, not lumped
    row = Customer.objects.get(external_id="7590-VHVEG")  # tenure 1, still subscribed
    assert (row.started_on, row.ended_on) == (date(2026, 9, 1), None)
    left = Customer.objects.get(external_id="3668-QPYBK")  # tenure 2, left
    assert left.started_on == _month(left.ended_on, -2)


def _month(day, months):
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def test_demo_links_every_review_to_a_subscriber_of_its_month_the_same_way_every_time(loaded):
    responses = SurveyResponse.objects.filter(source="clothing-reviews")
    links = dict(responses.values_list("external_id", "customer_id"))
    assert all(links.values()) and len(set(links.values())) > 800  # spread over many subscribers
    subscribers = {c.external_id: c for c in Customer.objects.filter(external_id__in=links.values())}
    for response in responses:
        customer = subscribers[response.customer_id]
        month = response.responded_at.date().replace(day=1)
        assert customer.started_on <= month and (customer.ended_on is None or customer.ended_on >= month)
    # The link is a hash of the review id: another machine, or another run, gets the same one.
    _header, _rows, found = derive_subscribers(Path(django_settings.SHARED_DATA_DIR) / "telco-customer-churn.csv")
    in_file_order = sorted(links, key=int)  # the file's first column numbers its rows from 0
    assert review_writers(in_file_order, found) == [links[i] for i in in_file_order]


def test_demo_monthly_churn_is_a_series_and_revenue_at_risk_has_figures(loaded):
    from metrics.models import Metric, MetricValue
    from metrics.selectors import business_impact
    from rootcause.models import Issue

    churn = MetricValue.objects.filter(metric__slug="monthly-churn", segment="")
    assert churn.count() == 12 and all(1 < v.value < 5 for v in churn)
    assert Metric.objects.get(north_star=True).name == "Happy with what arrived (review CSAT)"
    impact = business_impact()
    assert impact["risk_known"] and all(row["revenue_at_risk"] for row in impact["rows"])
    tour = Issue.objects.get(title="Colours differ from the photos")
    assert tour.evidence["revenue_at_risk"]["customers"] > 50 and tour.evidence["revenue_at_risk"]["annual"] > 0
    assert tour.verdict == "effective" and tour.function.slug == "marketing"


def test_demo_every_function_owns_metrics_and_the_kpi_audit_flags_output_only_functions(loaded):
    from metrics.selectors import kpi_audit

    rows = {row["function"].slug: row for row in kpi_audit() if row["function"] is not None}
    assert set(rows) == set(Function.objects.values_list("slug", flat=True))
    assert all(row["total"] for row in rows.values())
    kinds = Counter(kind for row in rows.values() for kind, n in row["mix"].items() if n)
    assert kinds["outcome"] and kinds["output"] and kinds["business"]
    assert rows["customer-care"]["mostly_outputs"] and not rows["sizing-product"]["mostly_outputs"]


def test_demo_feedback_matches_the_published_review_facts(loaded):
    responses = SurveyResponse.objects.filter(source="clothing-reviews")
    assert responses.count() == 1000
    by_rating = dict(responses.values_list("score").annotate(n=Count("pk")).order_by())
    assert [by_rating[r] for r in range(1, 6)] == [27, 72, 127, 228, 546]
    assert responses.filter(comment="").count() == 42


def test_demo_without_shared_data_loads_the_organisation_alone(db, settings, tmp_path, capsys):
    settings.SHARED_DATA_DIR = tmp_path / "missing"
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "has no demo files; loaded the organisation alone" in out
    assert Function.objects.exists() and not Customer.objects.exists()


def test_demo_refuses_to_load_in_production(db, settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="Refusing to load the demo"):
        call_command("load_demo")
    assert not User.objects.filter(username="admin").exists()


def test_demo_keeps_an_accountability_the_user_moved(loaded, capsys):
    subject = "Subscribers charged the right amount on the right day"
    entry = Accountability.objects.get(subject=subject, role="A")
    entry.function = Function.objects.get(slug="finance")
    entry.save()
    Accountability.objects.filter(function__slug="finance", subject=subject, role="I").delete()
    call_command("load_demo")
    assert Accountability.objects.get(subject=subject, role="A").function.slug == "finance"
    assert f"Kept your changes to: {subject}" in capsys.readouterr().out


def test_demo_reviews_carry_age_and_recommendation_and_a_proportion_reads_them(loaded):
    from metrics.models import Metric, MetricValue

    assert SurveyResponse.objects.filter(attributes__recommended=1.0).count() == 818  # the README's figure
    metric = Metric.objects.get(slug="reviews-not-recommending")
    overall = MetricValue.objects.filter(metric=metric, segment="")
    assert sum(v.sample_size for v in overall) == 1000
    assert round(sum(v.value * v.sample_size / 100 for v in overall)) == 182


def test_demo_page_says_what_is_derived_in_a_constant_number_of_queries(org, client_for, django_assert_num_queries):
    client = client_for(org["stakeholder"])
    client.get("/demo/")  # warm the session
    with django_assert_num_queries(4):  # session, user, subscribers, reviews
        html = client.get("/demo/").content.decode()
    assert "About the demo: Loom &amp; Thread" in html
    assert "What the demo derived (synthetic, deterministic)" in html and "chosen by a hash of the review's id" in html
    assert "About the demo</a>" in html  # the menu links to it while the demo runs


def test_without_the_demo_the_menu_does_not_link_to_its_page(org, client_for, settings):
    settings.DEMO = False
    assert "About the demo</a>" not in client_for(org["cx"]).get("/").content.decode()
