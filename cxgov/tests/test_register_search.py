"""The register's search finds words in any order, not one literal substring."""

from cxgov.models import Accountability


def test_register_search_finds_every_word_in_any_order(org, client_for):
    Accountability.objects.create(
        function=org["billing"], role="A", subject="Fair dunning for customers on payment plans"
    )
    Accountability.objects.create(function=org["logistics"], role="A", subject="Parcels on time")
    client = client_for(org["cx"])
    for query in ("dunning plans", "PLANS dunning", "payment billing"):
        page = client.get("/accountabilities/", {"q": query}).content.decode()
        assert "Fair dunning for customers on payment plans" in page, query
        assert "Parcels on time" not in page
    page = client.get("/accountabilities/", {"q": "dunning parcels"}).content.decode()
    assert "Fair dunning" not in page and "Parcels on time" not in page
