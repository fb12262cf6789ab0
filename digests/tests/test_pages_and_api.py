"""Digest preferences, defaults per role, preview and delivery history: pages and API."""

from datetime import UTC, datetime

from digests.models import DigestDefault, DigestDelivery, DigestPreference


def test_person_sets_own_schedule_and_bad_time_zone_is_refused(org, client_for):
    client = client_for(org["leader"])
    page = client.get("/digests/").content.decode()
    assert "You follow your role's default schedule" in page
    data = {"frequency": "weekly", "weekday": 2, "day_of_month": 1, "hour": 7, "time_zone": "Mars/Olympus"}
    response = client.post("/digests/", data)
    assert "is not a time zone name" in response.content.decode() and not DigestPreference.objects.exists()
    data["time_zone"] = "Europe/Paris"
    assert client.post("/digests/", data).status_code == 302
    saved = DigestPreference.objects.get(user=org["leader"])
    assert (saved.frequency, saved.weekday, saved.hour, saved.time_zone) == ("weekly", 2, 7, "Europe/Paris")


def test_administrators_set_defaults_per_role(org, client_for):
    data = {"role": "leader", "frequency": "monthly", "weekday": 0, "day_of_month": 3, "hour": 6, "time_zone": "UTC"}
    assert client_for(org["cx"]).post("/digests/defaults/", data).status_code == 403
    assert client_for(org["admin"]).post("/digests/defaults/", data).status_code == 302
    assert DigestDefault.objects.get(role="leader").day_of_month == 3
    api = client_for(org["leader"])
    assert api.get("/api/digest-preferences/me/").json() | {} == {
        "frequency": "monthly",
        "weekday": 0,
        "day_of_month": 3,
        "hour": 6,
        "time_zone": "UTC",
        "updated_at": None,  # a default, never saved
        "own": False,
    }


def test_preview_shows_the_next_digest(org, client_for):
    from datetime import date

    from rootcause.models import ActionItem, Issue

    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"])
    ActionItem.objects.create(
        issue=issue, title="<b>Switch</b> on change date", function=org["billing"], due_date=date(2026, 1, 1)
    )
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    html = client_for(org["leader"]).get("/digests/preview/").content.decode()
    assert "Your cxgov weekly digest: 1 overdue" in html and "leader@example.com" in html
    assert "&lt;b&gt;Switch&lt;/b&gt;" in html and "<b>Switch</b>" not in html
    assert client_for(org["leader"]).get(f"/digests/preview/?user={org['cx'].pk}").context["person"] == org["leader"]
    assert client_for(org["admin"]).get(f"/digests/preview/?user={org['cx'].pk}").context["person"] == org["cx"]


def test_api_preferences_own_and_deliveries_scoped(org, api_for):
    api = api_for(org["leader"])
    response = api.put("/api/digest-preferences/me/", {"frequency": "daily", "hour": 25}, format="json")
    assert response.status_code == 400 and "hour" in response.json()
    response = api.put("/api/digest-preferences/me/", {"frequency": "daily", "hour": 6}, format="json")
    assert response.status_code == 200 and response.json()["own"] is True
    now = datetime(2026, 11, 25, tzinfo=UTC)
    DigestDelivery.objects.create(user=org["leader"], period="daily:2026-11-25", frequency="daily", since=now)
    DigestDelivery.objects.create(user=org["cx"], period="daily:2026-11-25", frequency="daily", since=now)
    assert api.get("/api/digest-deliveries/").json()["count"] == 1
    assert api_for(org["admin"]).get("/api/digest-deliveries/").json()["count"] == 2
