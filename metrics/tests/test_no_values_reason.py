"""A score metric with no values says why, when its data explains it."""

from datetime import UTC, datetime

from metrics.models import Metric, SurveyResponse


def _responses(scale, scores):
    at = datetime(2026, 10, 1, tzinfo=UTC)
    for i, score in enumerate(scores):
        SurveyResponse.objects.create(
            source="reviews", external_id=f"{scale}{i}", responded_at=at, score=score, scale=scale
        )


def test_a_new_nps_metric_on_1_to_5_data_says_why_it_has_no_values(org, client_for):
    _responses("csat", [5, 4, 2])
    Metric.objects.create(name="Review NPS", slug="review-nps", calculator="nps", kind="outcome", source="reviews")
    html = client_for(org["stakeholder"]).get("/metrics/review-nps/").content.decode()
    assert "No values yet" in html
    assert "reads 0-10 likelihood to recommend scores" in html
    assert "3 on the 1-5 satisfaction scale" in html and "CSAT or mean for 1-5" in html


def test_a_score_metric_without_responses_says_none_match(org, client_for):
    Metric.objects.create(name="Survey CSAT", slug="survey-csat", calculator="csat", kind="outcome", source="pulse")
    html = client_for(org["stakeholder"]).get("/metrics/survey-csat/").content.decode()
    assert "No scored survey responses from the source “pulse” match this metric yet" in html
