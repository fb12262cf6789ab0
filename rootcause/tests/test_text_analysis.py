"""Sentiment and language of comments, the problems Pareto against what works, and the counts shown."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from metrics.models import SurveyResponse
from rootcause import selectors, services, text
from rootcause.models import CommentTag, KeyDriver, SubTheme

FRENCH = "La robe est beaucoup trop petite et la couleur ne correspond pas du tout à la photo"
GERMAN = "Das Kleid ist viel zu klein und die Farbe stimmt überhaupt nicht mit dem Foto überein"


def _response(i, comment, *, score=None, scale="", source="shop"):
    return SurveyResponse.objects.create(
        source=source,
        external_id=str(i),
        responded_at=datetime(2026, 3, 1, tzinfo=UTC),
        comment=comment,
        score=score,
        scale=scale,
    )


def _theme(name, keywords, driver=None):
    driver = driver or KeyDriver.objects.get_or_create(name="Product", slug="product")[0]
    return SubTheme.objects.create(driver=driver, name=name, slug=name.lower().replace(" ", "-"), keywords=keywords)


def test_sentiment_labels_follow_vaders_cut_offs():
    assert text.label(text.sentiment("I love this dress, it is beautiful")) == "positive"
    assert text.label(text.sentiment("Terrible quality, it ripped and I hate it")) == "negative"
    assert text.label(text.sentiment("I ordered a medium")) == "neutral"
    assert text.label(None) == ""
    assert (text.label(0.05), text.label(0.0499), text.label(-0.05)) == ("positive", "neutral", "negative")


def test_language_is_said_only_when_the_detector_is_sure():
    assert text.language("The dress runs small and the colour is not as pictured") == "en"
    assert text.language(FRENCH) == "fr"
    assert text.language(GERMAN) == "de"
    # Short comments read as anything to a detector: they stay with the handled language.
    assert text.language("Runs small") == text.UNDETERMINED
    assert text.handled(text.UNDETERMINED) and text.handled("en") and not text.handled("fr")


def test_a_sub_theme_takes_the_sentiment_of_the_clauses_that_name_it():
    rules = services.tagging.compile_rules([(1, ["love"], []), (2, ["runs small", "tight"], [])])
    matcher = services.tagging.Matcher(rules)
    found = text.aspect_sentiments("I love the colour but it runs small and is tight", [1, 2], matcher.match)
    assert text.label(found[1]) == "positive" and text.label(found[2]) != "positive"
    # A tag no clause names (a manual one, say) takes the whole comment's sentiment.
    whole = "Awful, awful service"
    assert text.aspect_sentiments(whole, [9], matcher.match)[9] == text.sentiment(whole)


@pytest.mark.parametrize(
    ("positive", "total", "praise"),
    [(19, 19, False), (20, 20, True), (80, 100, True), (75, 100, False), (60, 100, False), (0, 0, False)],
)
def test_praise_is_a_sure_majority_of_positive_comments(positive, total, praise):
    # 20 of 20: Wilson's lower bound 83.9%; 80 of 100: 71.1%; 75 of 100: 65.7%.
    assert text.is_praise(positive, total) is praise


def test_analysis_is_safe_to_run_twice_and_redoes_a_changed_comment(db):
    theme = _theme("Runs small", "runs small")
    response = _response(1, "I love the colour but it runs small")
    _response(2, "")
    services.comments_tag()
    assert services.comments_analyse() == {"comments": 1, "analysed": 1}
    assert services.tags_analyse() == 1
    response.refresh_from_db()
    assert (response.sentiment_label, response.language) == ("positive", "en")
    tag = CommentTag.objects.get(response=response, sub_theme=theme)
    assert text.label(tag.sentiment) == "neutral"  # "it runs small" says nothing good
    assert services.comments_analyse() == {"comments": 1, "analysed": 0}
    assert services.tags_analyse() == 0

    SurveyResponse.objects.filter(pk=response.pk).update(comment="It runs small and the zip broke, awful")
    assert services.comments_analyse()["analysed"] == 1
    tag.refresh_from_db()
    assert tag.sentiment is None  # to be scored again
    assert services.tags_analyse() == 1
    response.refresh_from_db()
    assert response.sentiment_label == "negative"


def test_comments_in_other_languages_are_counted_and_never_tagged_by_english_rules(db):
    _theme("Photo", "photo\nfoto")
    french, english = _response(1, FRENCH.replace("photo", "photo foto")), _response(2, "Not like the photo at all")
    _response(3, GERMAN)
    services.comments_tag()
    assert CommentTag.objects.filter(response=french).exists()  # before the language is known
    services.comments_analyse()
    services.comments_tag()
    assert not CommentTag.objects.filter(response=french).exists()
    assert CommentTag.objects.filter(response=english).exists()
    coverage = selectors.text_coverage(selectors.responses_for())
    assert coverage["other_languages"] == 2 and coverage["handled"] == "English"
    assert dict(coverage["languages"]) == {"de": 1, "fr": 1}


def test_the_problems_pareto_counts_what_the_sentiment_filter_keeps(db):
    fit = _theme("Size", "size")  # not "fit": VADER's general lexicon reads "fit" as healthy, positive
    responses = [
        _response(1, "The size is awful, I hate it"),
        _response(2, "The size is as listed"),
        _response(3, "The size is lovely, great"),
    ]
    services.comments_tag()
    services.comments_analyse()
    services.tags_analyse()
    assert [text.label(CommentTag.objects.get(response=r).sentiment) for r in responses] == [
        "negative",
        "neutral",
        "positive",
    ]

    def count(**kwargs):
        rows = selectors.pareto_analysis(responses=selectors.responses_for(), **kwargs)["rows"]
        return {item["theme"].pk: item["row"].value for item in rows}

    assert count() == {fit.pk: 2}  # negative and neutral by default
    assert count(sentiment="negative") == {fit.pk: 1}
    assert count(sentiment="all") == {fit.pk: 3}
    assert count(view="praise") == {}  # one positive comment of three: not praise


def test_a_tag_not_analysed_yet_still_counts_as_a_problem(db):
    theme = _theme("Fit", "fit")
    _response(1, "The fit is lovely")
    services.comments_tag()
    rows = selectors.pareto_analysis(responses=selectors.responses_for())["rows"]
    assert [(item["theme"].pk, item["row"].value) for item in rows] == [(theme.pk, 1.0)]


def test_a_mostly_positive_theme_is_praise_not_a_problem(db, org, client_for):
    love, small = _theme("Love the style", "love"), _theme("Runs small", "runs small")
    for i in range(30):
        _response(i, f"I love this dress, it is beautiful number {i}", score=5, scale="csat")
    for i in range(30, 55):
        _response(i, f"Sadly it runs small and the zip broke, size {i}", score=2, scale="csat")
    services.comments_analyse()
    services.comments_tag()
    services.tags_analyse()
    problems = selectors.pareto_analysis(responses=selectors.responses_for())
    assert [item["theme"] for item in problems["rows"]] == [small]
    assert [p["theme"] for p in problems["praise"]] == [love]
    works = selectors.pareto_analysis(responses=selectors.responses_for(), view="praise")
    assert [(item["theme"], item["row"].value) for item in works["rows"]] == [(love, 30.0)]

    client = client_for(org["cx"])
    page = client.get("/rootcause/pareto/").content.decode()
    assert f"?sub_theme={small.pk}" in page and f"?sub_theme={love.pk}" not in page  # "open an issue" links
    assert "Praise left out of the problems: Love the style" in page
    page = client.get("/rootcause/pareto/what-works/").content.decode()
    assert "Love the style" in page and "open an issue" not in page
    assert "100% of 30 with a high score read positive" in page


def test_the_pareto_pages_keep_their_number_of_queries_as_praise_grows(db, org, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(org["stakeholder"])

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    counts = []
    for batch, word in enumerate(["love", "beautiful", "gorgeous"]):
        _theme(f"Praise {word}", word)
        _theme(f"Problem {batch}", f"broken{batch}")
        for i in range(25):
            _response(f"{word}{i}", f"I {word} it, {word} and great {i}", score=5, scale="csat")
            _response(f"b{batch}-{i}", f"Sadly it is broken{batch} and awful {i}", score=1, scale="csat")
        services.comments_analyse()
        services.comments_tag()
        services.tags_analyse()
        counts.append((queries("/rootcause/pareto/"), queries("/rootcause/pareto/what-works/")))
    assert counts[0] == counts[1] == counts[2] == (14, 13)  # what works is not corrected: no model lookup


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


PRAISE = {"Love the style", "Soft and comfortable", "Fits well"}


def test_the_demos_problems_pareto_holds_no_praise_and_what_works_holds_it(demo, org_users_from_demo):
    responses = selectors.responses_for()
    problems = selectors.pareto_analysis(responses=responses)
    names = {item["theme"].name for item in problems["rows"]}
    assert names and not names & PRAISE
    assert {"Runs small", "Runs large", "Returns and refunds"} <= names
    assert {p["theme"].name for p in problems["praise"]} == PRAISE
    works = selectors.pareto_analysis(responses=responses, view="praise")
    assert {item["theme"].name for item in works["rows"]} == PRAISE
    coverage = selectors.text_coverage(responses)
    assert coverage["not_analysed"] == 0 and coverage["agreement"]["n"] == responses.exclude(score=None).count()

    client = org_users_from_demo("cx")
    page = client.get("/rootcause/pareto/").content.decode()
    for name in PRAISE:
        theme = SubTheme.objects.get(name=name)
        assert f"?sub_theme={theme.pk}" not in page  # never offered as a problem
    assert "in other languages not tagged" in page or "No comment in another language" in page


@pytest.fixture
def org_users_from_demo(client):
    from cxgov.models import User

    def login(username):
        client.force_login(User.objects.get(username=username))
        return client

    return login
