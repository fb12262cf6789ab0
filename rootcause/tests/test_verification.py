"""Verification: before/after with a significance test, on series that improved, did not, or are too small."""

from datetime import UTC, date, datetime, timedelta

import pytest

from rootcause import verification
from rootcause.models import ActionItem, Issue, IssueState, MeasureKind


def test_shares_hand_computed():
    # 60/300 = 20% before, 30/300 = 10% after: pooled p = 0.15, se = sqrt(.15*.85*(2/300)) = 0.029155,
    # z = 0.1 / 0.029155 = 3.430, one-sided p = 0.000302.
    result = verification.compare_shares(60, 300, 30, 300, expected=20)
    assert result.verdict == "effective"
    assert result.p_value == pytest.approx(0.000302, abs=2e-6)
    assert result.improvement == pytest.approx(50.0)


def test_shares_significant_but_short_of_the_expected_improvement_is_partial():
    result = verification.compare_shares(300, 1000, 240, 1000, expected=30)
    assert result.verdict == "partial" and result.improvement == pytest.approx(20.0) and result.p_value < 0.05


def test_shares_that_did_not_move_are_not_effective():
    result = verification.compare_shares(60, 300, 55, 300)
    assert result.verdict == "not_effective" and result.p_value > 0.05


def test_a_worse_share_is_not_effective():
    assert verification.compare_shares(30, 300, 60, 300).verdict == "not_effective"


def test_too_few_comments_says_so_instead_of_guessing():
    result = verification.compare_shares(8, 20, 0, 20)
    assert result.verdict == "inconclusive" and result.p_value is None
    assert "Too few comments" in result.reason and "baseline 20, check 20" in result.reason
    # enough comments but the sub-theme is too rare for the normal approximation
    assert verification.compare_shares(2, 100, 0, 100).verdict == "inconclusive"


def test_series_welch_hand_computed():
    # Welch's t for [10,12,11,13,12] vs [6,7,5,6,7]: t = 7.1 (df ≈ 7.7), one-sided p ≈ 6e-5 (scipy agrees).
    result = verification.compare_series([10, 12, 11, 13, 12], [6, 7, 5, 6, 7], lower_is_better=True)
    assert result.verdict == "effective" and result.p_value < 0.001
    higher = verification.compare_series([10, 12, 11, 13, 12], [6, 7, 5, 6, 7], lower_is_better=False)
    assert higher.verdict == "not_effective" and higher.p_value > 0.99


def test_series_too_short_is_inconclusive():
    result = verification.compare_series([10, 12], [1, 2, 3], lower_is_better=True)
    assert result.verdict == "inconclusive" and "at least 3" in result.reason


def _comments(day: date, total: int, tagged: int, theme, prefix: str):
    from metrics.models import SurveyResponse
    from rootcause.models import CommentTag

    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    responses = SurveyResponse.objects.bulk_create(
        SurveyResponse(source="t", external_id=f"{prefix}{i}", responded_at=at, score=3, scale="csat", comment="x")
        for i in range(total)
    )
    CommentTag.objects.bulk_create(CommentTag(response=r, sub_theme=theme) for r in responses[:tagged])


@pytest.fixture
def theme(db):
    from rootcause.models import KeyDriver, SubTheme

    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    return SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="late")


def _issue(org, theme, **extra):
    today = date(2026, 6, 1)
    issue = Issue.objects.create(
        title="Late deliveries",
        sub_theme=theme,
        function=org["logistics"],
        state=IssueState.VERIFYING,
        measure_kind=MeasureKind.SHARE,
        baseline_start=today - timedelta(days=60),
        baseline_end=today - timedelta(days=31),
        check_start=today - timedelta(days=30),
        check_end=today - timedelta(days=1),
        **extra,
    )
    return issue, today


@pytest.mark.parametrize(
    ("before", "after", "verdict", "state"),
    [
        ((200, 60), (200, 20), "effective", IssueState.VERIFYING),
        ((200, 60), (200, 57), "not_effective", IssueState.REOPENED),
        ((10, 5), (10, 1), "inconclusive", IssueState.VERIFYING),
    ],
)
def test_issue_verification_records_the_result(org, theme, before, after, verdict, state):
    from rootcause import services

    issue, today = _issue(org, theme)
    _comments(issue.baseline_start + timedelta(days=3), *before, theme, "b")
    _comments(issue.check_start + timedelta(days=3), *after, theme, "a")
    issue = services.issue_verify(issue_id=issue.pk, today=today)
    assert issue.verdict == verdict and issue.state == state
    assert issue.verification["n_baseline"] == before[0] and issue.verification["n_check"] == after[0]
    # Safe to run twice: the recorded result stands.
    again = services.issue_verify(issue_id=issue.pk, today=today)
    assert again.verified_at == issue.verified_at


def test_verification_waits_for_the_check_window_to_end(org, theme):
    from rootcause import services

    issue, today = _issue(org, theme)
    services.issue_verify(issue_id=issue.pk, today=issue.check_end)
    assert Issue.objects.get(pk=issue.pk).verdict == ""


def test_metric_measure_uses_the_metric_direction(org):
    from metrics.models import Metric, MetricValue
    from rootcause import services

    metric = Metric.objects.create(name="Churn", slug="churn", calculator="churn", direction="lower")
    start = date(2026, 1, 1)
    values, now = [5.0, 5.2, 4.9, 5.1, 2.0, 2.1, 1.9, 2.2], datetime.now(UTC)
    MetricValue.objects.bulk_create(
        MetricValue(metric=metric, period_start=start + timedelta(days=7 * i), segment="", value=v, computed_at=now)
        for i, v in enumerate(values)
    )
    issue = Issue.objects.create(
        title="Churn",
        metric=metric,
        function=org["billing"],
        measure_kind=MeasureKind.METRIC,
        baseline_start=start,
        baseline_end=start + timedelta(days=27),
        check_start=start + timedelta(days=28),
        check_end=start + timedelta(days=55),
    )
    issue = services.issue_verify(issue_id=issue.pk, today=date(2026, 6, 1))
    assert issue.verdict == "effective" and issue.verification["baseline"] == pytest.approx(5.05)


def test_periodic_task_verifies_due_issues_only(org, theme):
    from rootcause import tasks

    due, _ = _issue(org, theme)
    Issue.objects.create(
        title="Not yet",
        function=org["billing"],
        measure_kind=MeasureKind.SERIES,
        measure_series="calls",
        baseline_start=date(2099, 1, 1),
        baseline_end=date(2099, 1, 2),
        check_start=date(2099, 1, 3),
        check_end=date(2099, 1, 4),
    )
    assert tasks.verify_issues() == 1
    assert Issue.objects.get(pk=due.pk).verdict == "inconclusive"
    assert tasks.verify_issues() == 0


def test_closing_needs_root_cause_decision_point_done_item_and_result(org):
    from django.core.exceptions import ValidationError

    from rootcause import services
    from rootcause.models import DecisionPoint, Workflow

    issue = Issue.objects.create(title="Mixed bills", function=org["billing"], state=IssueState.VERIFYING)
    with pytest.raises(ValidationError) as error:
        services.issue_transition(user=org["cx"], issue=issue, state="close")
    text = str(error.value)
    assert "root cause" in text and "decision point" in text and "action item" in text and "verification" in text
    point = DecisionPoint.objects.create(
        workflow=Workflow.objects.create(name="Invoice run", function=org["billing"]), rule="Next full month"
    )
    ActionItem.objects.create(
        issue=issue, title="Fix", function=org["billing"], due_date=date(2026, 1, 1), status="done"
    )
    Issue.objects.filter(pk=issue.pk).update(root_cause="Pro-rating", decision_point=point, verdict="inconclusive")
    with pytest.raises(ValidationError):
        services.issue_transition(user=org["cx"], issue=Issue.objects.get(pk=issue.pk), state="close")
    Issue.objects.filter(pk=issue.pk).update(verdict="partial")
    closed = services.issue_transition(user=org["cx"], issue=Issue.objects.get(pk=issue.pk), state="close")
    assert closed.state == IssueState.CLOSED_PARTIAL
    with pytest.raises(ValidationError):
        services.issue_transition(user=org["cx"], issue=closed, state=IssueState.INVESTIGATING)
    reopened = services.issue_transition(user=org["cx"], issue=closed, state=IssueState.REOPENED)
    assert reopened.state == IssueState.REOPENED and reopened.verdict == ""


def test_share_counts_count_comments_not_tags(org, theme):
    from rootcause import selectors
    from rootcause.models import CommentTag, KeyDriver, SubTheme

    other = SubTheme.objects.create(driver=KeyDriver.objects.get(), name="Rude", slug="rude", keywords="rude")
    _comments(date(2026, 3, 1), 10, 4, theme, "m")
    for tag in CommentTag.objects.all():
        CommentTag.objects.create(response_id=tag.response_id, sub_theme=other)
    window = (date(2026, 2, 1), date(2026, 3, 31))
    assert selectors.share_counts(theme.pk, window + window)[0] == (4, 10)


def test_a_failure_demand_series_counts_days_without_events_as_zero(org):
    from metrics.models import Observation
    from rootcause import services

    start = date(2026, 3, 1)
    Observation.objects.bulk_create(
        Observation(
            source="repeat-calls", external_id=f"b{i}", value=10, observed_at=datetime(2026, 3, 1 + i, 12, tzinfo=UTC)
        )
        for i in range(10)
    )
    Observation.objects.create(
        source="repeat-calls", external_id="a", value=1, observed_at=datetime(2026, 3, 15, 12, tzinfo=UTC)
    )
    issue = Issue.objects.create(
        title="Repeat calls",
        function=org["billing"],
        measure_kind=MeasureKind.SERIES,
        measure_series="repeat-calls",
        baseline_start=start,
        baseline_end=date(2026, 3, 10),
        check_start=date(2026, 3, 11),
        check_end=date(2026, 3, 20),
    )
    issue = services.issue_verify(issue_id=issue.pk, today=date(2026, 4, 1))
    assert issue.verdict == "effective" and issue.verification["n_check"] == 10


def test_a_deleted_measure_is_inconclusive_and_does_not_stop_the_others(org, theme):
    from metrics.models import Metric
    from rootcause import tasks

    metric = Metric.objects.create(name="Gone", slug="gone", calculator="csat")
    broken = Issue.objects.create(
        title="Broken",
        function=org["billing"],
        metric=metric,
        measure_kind=MeasureKind.METRIC,
        baseline_start=date(2026, 1, 1),
        baseline_end=date(2026, 1, 31),
        check_start=date(2026, 2, 1),
        check_end=date(2026, 2, 28),
    )
    metric.delete()
    fine, _ = _issue(org, theme)
    assert tasks.verify_issues() == 2
    broken.refresh_from_db()
    assert broken.verdict == "inconclusive" and "no longer exists" in broken.verification["reason"]
    assert Issue.objects.get(pk=fine.pk).verdict == "inconclusive"


def test_changing_the_measure_or_windows_clears_the_result(org, theme):
    from rootcause import services

    issue, today = _issue(org, theme)
    Issue.objects.filter(pk=issue.pk).update(verdict="effective", verification={"reason": "x"})
    issue = services.issue_save(
        user=org["cx"], issue=Issue.objects.get(pk=issue.pk), fields={"check_end": date(2099, 1, 1)}
    )
    assert issue.verdict == "" and issue.verification == {}
    assert "verification" in " ".join(services.close_problems(issue))


def test_verify_again_on_a_closed_issue_keeps_its_result(org, client_for, theme):
    issue, _ = _issue(org, theme)
    Issue.objects.filter(pk=issue.pk).update(state="closed_effective", verdict="effective", verification={"r": 1})
    response = client_for(org["cx"]).post(f"/rootcause/issues/{issue.pk}/verify/", follow=True)
    assert "reopen it to verify again" in response.content.decode()
    issue.refresh_from_db()
    assert issue.verdict == "effective" and issue.verification == {"r": 1}
