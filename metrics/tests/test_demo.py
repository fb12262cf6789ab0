"""The demo loader: idempotent, real figures from ../shared/data, and fine without that folder."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from cxgov.models import Accountability, Function, Membership, User
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


def test_demo_customers_match_the_published_telco_facts(loaded):
    assert Customer.objects.count() == 7043
    assert Customer.objects.filter(ended_on__isnull=False).count() == 1869
    month_to_month = Customer.objects.filter(category="Month-to-month")
    assert month_to_month.count() == 3875
    assert month_to_month.filter(ended_on__isnull=False).count() == 1655
    churned_revenue = Customer.objects.filter(ended_on__isnull=False).aggregate(s=Sum("monthly_revenue"))["s"]
    assert churned_revenue == Decimal("139130.85")


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
    entry = Accountability.objects.get(subject="Invoice accuracy", role="A")
    entry.function = Function.objects.get(slug="finance")
    entry.save()
    Accountability.objects.filter(function__slug="finance", subject="Invoice accuracy", role="I").delete()
    call_command("load_demo")
    assert Accountability.objects.get(subject="Invoice accuracy", role="A").function.slug == "finance"
    assert "Kept your changes to: Invoice accuracy" in capsys.readouterr().out


def test_demo_reviews_carry_age_and_recommendation_and_a_proportion_reads_them(loaded):
    from metrics.models import Metric, MetricValue

    assert SurveyResponse.objects.filter(attributes__recommended=1.0).count() == 818  # the README's figure
    metric = Metric.objects.get(slug="reviews-not-recommending")
    overall = MetricValue.objects.filter(metric=metric, segment="")
    assert sum(v.sample_size for v in overall) == 1000
    assert round(sum(v.value * v.sample_size / 100 for v in overall)) == 182
