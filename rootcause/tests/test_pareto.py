"""Pareto figures against hand-computed data."""

import pytest

from rootcause.pareto import pareto


def test_counts_shares_cumulative_and_vital_few():
    rows = pareto({"a": ("Billing errors", 50), "b": ("Late delivery", 30), "c": ("App", 15), "d": ("Other", 5)})
    assert [(r.label, r.value, r.share, r.cumulative, r.vital) for r in rows] == [
        ("Billing errors", 50, 50.0, 50.0, True),
        ("Late delivery", 30, 30.0, 80.0, True),  # reaches exactly 80%: the vital few stop here
        ("App", 15, 15.0, 95.0, False),
        ("Other", 5, 5.0, 100.0, False),
    ]


def test_a_top_set_at_79_9_percent_needs_one_more():
    rows = pareto({"a": ("A", 500), "b": ("B", 299), "c": ("C", 101), "d": ("D", 100)})
    assert [round(r.cumulative, 1) for r in rows] == [50.0, 79.9, 90.0, 100.0]
    assert [r.vital for r in rows] == [True, True, True, False]


def test_ties_sort_by_label_and_the_cut_off_is_configurable():
    rows = pareto({"x": ("Zeta", 10), "y": ("Alpha", 10), "z": ("Mid", 5)}, cutoff=40)
    assert [r.label for r in rows] == ["Alpha", "Zeta", "Mid"]
    assert [r.vital for r in rows] == [True, False, False]


def test_empty_or_zero_gives_no_rows():
    assert pareto({}) == []
    assert pareto({"a": ("A", 0)}) == []


@pytest.mark.parametrize("cutoff", [100.0])
def test_a_cut_off_of_100_takes_every_theme(cutoff):
    assert all(r.vital for r in pareto({"a": ("A", 3), "b": ("B", 1)}, cutoff=cutoff))


def test_snapshots_show_which_sub_themes_entered_or_left_the_vital_few(org, client_for):
    from datetime import UTC, datetime

    from metrics.models import SurveyResponse
    from rootcause import services
    from rootcause.models import KeyDriver, ParetoSnapshot, SubTheme

    driver = KeyDriver.objects.create(name="D", slug="d")
    for word in ("alpha", "beta", "gamma"):
        SubTheme.objects.create(driver=driver, name=word.title(), slug=word, keywords=word)

    def comments(word, n):
        start = SurveyResponse.objects.count()
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                source="s",
                external_id=str(start + i),
                responded_at=datetime(2026, 1, 1, tzinfo=UTC),
                score=1,
                scale="csat",
                comment=f"{word} problem",
            )
            for i in range(n)
        )
        services.comments_tag()

    comments("alpha", 8)
    comments("beta", 1)
    comments("gamma", 1)
    client = client_for(org["cx"])
    assert client.post("/rootcause/pareto/?cutoff=70").status_code == 302
    assert ParetoSnapshot.objects.get().vital_labels == {"D › Alpha"}
    comments("gamma", 12)
    comparison = client.get("/rootcause/pareto/?cutoff=70").context["analysis"]["comparison"]
    assert comparison["entered"] == ["D › Gamma"] and comparison["left"] == []
    assert client_for(org["stakeholder"]).post("/rootcause/pareto/?cutoff=70").status_code == 403
