"""Digests sent through a real SMTP server: content and scope, both parts, headers and links, once
per period under retries and concurrency, local hours, failures."""

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from cxgov.lib import outbox
from cxgov.models import Email
from digests import selectors, services
from digests.models import DeliveryStatus, DigestDelivery, DigestPreference
from rootcause.models import ActionItem, Issue

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday; daily 08:00 UTC digests are due


@pytest.fixture
def people(org):
    for name in ("leader", "other_leader", "cx", "stakeholder", "admin"):
        org[name].email = f"{name}@example.com"
        org[name].save()
        DigestPreference.objects.create(user=org[name], frequency="daily", hour=8, time_zone="UTC")
    mine = Issue.objects.create(title="Mixed first bills", function=org["billing"])
    theirs = Issue.objects.create(title="Secret logistics issue", function=org["logistics"])
    ActionItem.objects.create(
        issue=mine, title="Switch on change date", function=org["billing"], due_date=date(2026, 11, 20)
    )
    ActionItem.objects.create(
        issue=mine, title="Explain mixed bill", function=org["billing"], due_date=date(2026, 11, 28)
    )
    ActionItem.objects.create(
        issue=mine, title="Already finished", function=org["billing"], due_date=date(2026, 11, 1), status="done"
    )
    ActionItem.objects.create(
        issue=theirs, title="Private logistics item", function=org["logistics"], due_date=date(2026, 11, 1)
    )
    Issue.objects.create(title="Nobody owns this", function=None)
    return org


def _run(now):
    """A beat's digest run, then the outbox worker's send."""
    stats = services.digests_send_due(now=now)
    outbox.send_due()
    return stats


def _only(smtp, address):
    found = [m for m in smtp.messages if m["To"] == address]
    assert len(found) == 1, [m["To"] for m in smtp.messages]
    return found[0]


def test_leaders_digest_arrives_with_both_parts_headers_and_links(people, smtp, client):
    stats = _run(NOW)
    assert stats["queued"] >= 2
    message = _only(smtp, "leader@example.com")
    assert message["Subject"] == "Your cxgov daily digest: 1 overdue, 1 due soon"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Switch on change date" in part and "Explain mixed bill" in part
        assert "Already finished" not in part
        # Scope: another function's items and issues, and the CX team's unowned list, are not named.
        assert "Private logistics item" not in part and "Secret logistics issue" not in part
        assert "Nobody owns this" not in part
    assert "<script" not in html and 'style="' in html
    links = set(re.findall(r'href="([^"]+)"', html))
    assert links and all(link.startswith("https://cxgov.example.com/") for link in links)
    issue = Issue.objects.get(title="Mixed first bills")
    assert f"https://cxgov.example.com/rootcause/issues/{issue.pk}/" in links
    assert f"https://cxgov.example.com/rootcause/issues/{issue.pk}/" in text
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in links and unsubscribe.startswith("https://cxgov.example.com/digests/unsubscribe/")
    # One click, no login: the link turns the digest off.
    response = client.post(unsubscribe.removeprefix("https://cxgov.example.com"))
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert DigestPreference.objects.get(user=people["leader"]).frequency == "off"
    assert client.get("/digests/unsubscribe/forged/").status_code == 400


def test_cx_digest_lists_unowned_issues(people, smtp):
    _run(NOW)
    text = _only(smtp, "cx@example.com").get_body(preferencelist=("plain",)).get_content()
    assert "ISSUES WITHOUT AN OWNING FUNCTION" in text and "Nobody owns this" in text


def test_an_empty_digest_is_not_sent(people, smtp):
    from cxgov.models import Role, User

    board = User.objects.create(username="board", role=Role.STAKEHOLDER, email="board@example.com")
    _run(NOW)
    assert not [m for m in smtp.messages if m["To"] == "board@example.com"]
    assert DigestDelivery.objects.get(user=board).status == DeliveryStatus.EMPTY
    # The stakeholder who belongs to Billing hears about Billing's overdue work.
    assert "Switch on change date" in _only(smtp, "stakeholder@example.com").get_body().get_content()


def test_running_again_sends_nothing_twice(people, smtp):
    _run(NOW)
    count = len(smtp.messages)
    again = _run(NOW + timedelta(minutes=5))
    assert len(smtp.messages) == count and again["queued"] == 0
    # Another worker that claimed first wins: this one skips.
    DigestDelivery.objects.all().delete()
    services.claim(user=people["leader"], period="daily:2026-11-25", frequency="daily", since=NOW)
    _run(NOW)
    assert len([m for m in smtp.messages if m["To"] == "leader@example.com"]) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_digest_once(people, smtp):
    errors = []

    def run():
        try:
            _run(NOW)  # three beats, then three outbox workers, at once
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    recipients = [m["To"] for m in smtp.messages]
    assert sorted(recipients) == sorted(set(recipients)) and "leader@example.com" in recipients
    assert DigestDelivery.objects.filter(user=people["leader"]).count() == 1


def test_transient_failure_waits_and_is_sent_once(people, smtp):
    DigestPreference.objects.exclude(user=people["leader"]).update(frequency="off")
    smtp.fail = ["451 4.3.0 Try again later"]
    stats = _run(NOW)
    delivery = DigestDelivery.objects.select_related("email").get(user=people["leader"])
    assert stats["queued"] == 1 and smtp.messages == []
    assert delivery.state == "waiting" and "451" in delivery.email.error and delivery.email.attempts == 1
    assert _run(NOW)["queued"] == 0 and outbox.send_due() == 0  # beat again: the claim stands, the back-off too
    Email.objects.update(next_attempt_at=timezone.now())
    assert outbox.send_due() == 1 and outbox.send_due() == 0
    assert len(smtp.messages) == 1
    delivery.email.refresh_from_db()
    assert delivery.email.attempts == 2 and delivery.email.sent_at and delivery.email.error == ""


def test_permanent_failure_is_recorded_and_shown_to_administrators(people, smtp, client_for):
    DigestPreference.objects.exclude(user=people["leader"]).update(frequency="off")
    smtp.fail = ["550 5.1.1 No such user"]
    _run(NOW)
    delivery = DigestDelivery.objects.select_related("email").get(user=people["leader"])
    assert delivery.state == "failed" and "550" in delivery.email.error and smtp.messages == []
    html = client_for(people["admin"]).get("/digests/deliveries/?status=failed").content.decode()
    assert "No such user" in html and "Leader" in html and "Not delivered" in html
    from digests.apps import _delivery_health

    assert _delivery_health()["ok"] is False
    own = client_for(people["other_leader"]).get("/digests/deliveries/").content.decode()
    assert "No such user" not in own


def test_local_hour_across_daylight_saving(people, smtp):
    DigestPreference.objects.exclude(user=people["leader"]).update(frequency="off")
    DigestPreference.objects.filter(user=people["leader"]).update(time_zone="Europe/London", hour=8)
    # Saturday 28 March 2026 (GMT): due at 08:00 UTC.
    assert services.digests_send_due(now=datetime(2026, 3, 28, 7, 55, tzinfo=UTC))["due"] == 0
    assert services.digests_send_due(now=datetime(2026, 3, 28, 8, 0, tzinfo=UTC))["due"] == 1
    # Sunday 29 March 2026 (BST from 01:00 UTC): due at 07:00 UTC.
    assert services.digests_send_due(now=datetime(2026, 3, 29, 6, 55, tzinfo=UTC))["due"] == 0
    services.digests_send_due(now=datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    services.digests_send_due(now=datetime(2026, 3, 29, 8, 0, tzinfo=UTC))
    periods = list(DigestDelivery.objects.order_by("period").values_list("period", flat=True))
    assert periods == ["daily:2026-03-28", "daily:2026-03-29"]


def test_items_resolved_since_the_last_digest_are_not_repeated(people, smtp):
    _run(NOW)
    ActionItem.objects.filter(title="Switch on change date").update(status="done")
    _run(NOW + timedelta(days=1))
    second = [m for m in smtp.messages if m["To"] == "leader@example.com"][-1]
    text = second.get_body(preferencelist=("plain",)).get_content()
    assert "Switch on change date" not in text and "Explain mixed bill" in text


def test_newly_assigned_issues_appear_once(people, smtp):
    from rootcause import services as rootcause_services

    since = datetime.now(UTC)  # after the fixture's issues were opened
    issue = Issue.objects.get(title="Nobody owns this")
    rootcause_services.issue_save(user=people["cx"], issue=issue, fields={"function": people["billing"]})
    content = selectors.digest_content(people["leader"], since, selectors.shared_content(since + timedelta(days=1)))
    assert [i.title for i in content["assigned"]] == ["Nobody owns this"]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert selectors.digest_content(people["leader"], later, selectors.shared_content(later))["assigned"] == []


def test_queries_per_batch_are_constant(people, smtp):
    """Building and storing a batch of digests (the beat's run) takes the same queries for 3
    recipients as for 15 (nothing per recipient); split into batches, each batch adds the same fixed
    number. Sending them (the outbox worker's run) adds one query per email, on purpose: each is
    marked sent as soon as the server took it, so a worker that dies mid-run sends none twice but
    the one it was sending."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cxgov.models import Membership, Role, User

    def recipients(n, offset):
        for i in range(n):
            user = User.objects.create(username=f"l{offset + i}", role=Role.LEADER, email=f"l{offset + i}@example.com")
            Membership.objects.create(person=user, function=people["billing"])

    def run(**kwargs):
        DigestDelivery.objects.all().delete()
        Email.objects.all().delete()
        smtp.messages.clear()
        with CaptureQueriesContext(connection) as building:
            stats = services.digests_send_due(now=NOW, **kwargs)
        with CaptureQueriesContext(connection) as sending:
            outbox.send_due()
        assert len(smtp.messages) == stats["queued"] == Email.objects.filter(status="sent").count()
        return len(building.captured_queries), len(sending.captured_queries) - stats["queued"], stats

    recipients(3, 0)
    few, few_sending, few_stats = run()
    recipients(12, 100)
    many, many_sending, many_stats = run()
    assert many_stats["queued"] == few_stats["queued"] + 12
    assert many == few < 40
    assert many_sending == few_sending < 10
    users = many_stats["due"]
    per_batch = [run(batch_size=size)[0] for size in (users, -(-users // 2), -(-users // 3))]
    assert per_batch[0] == few and per_batch[1] - per_batch[0] == per_batch[2] - per_batch[1] > 0


def test_alerts_on_the_readers_metrics_appear_fired_or_resolved(people, smtp):
    from django.utils import timezone

    from alerts.models import Alert
    from alerts.tests.factories import metric_with, rule_on
    from metrics.models import Metric

    ours = metric_with(people, [80, 70])  # owned by Billing
    theirs = Metric.objects.create(
        name="Parcel NPS", slug="parcel-nps", calculator="nps", owning_function=people["logistics"]
    )
    at = timezone.now() - timedelta(minutes=5)
    since = at - timedelta(hours=1)
    for metric, name, state in ((ours, "CSAT red", "firing"), (theirs, "Secret logistics alert", "firing")):
        Alert.objects.create(
            rule=rule_on(metric, name=name),
            metric=metric,
            severity="warning",
            state=state,
            opened_period=date(2026, 1, 2),
            message="m",
            fired_at=at,
        )
    old = Alert.objects.create(
        rule=rule_on(ours, name="CSAT amber"),
        metric=ours,
        severity="info",
        state="resolved",
        opened_period=date(2026, 1, 1),
        message="m",
        fired_at=since - timedelta(days=3),
        resolved_at=at,
    )
    content = selectors.digest_content(people["leader"], since, selectors.shared_content(timezone.now()))
    assert [(a.rule.name, a.state) for a in content["alerts"]] == [("CSAT red", "firing"), ("CSAT amber", "resolved")]
    assert old in content["alerts"]
    delivery = DigestDelivery(user=people["leader"], period="preview", frequency="daily", since=since)
    message = services.build_message(delivery, content)
    html = message.alternatives[0][0]
    assert "Firing" in html and "Resolved" in html and "Secret logistics alert" not in html + message.body
    assert f"https://cxgov.example.com/alerts/{old.pk}/" in html


def test_opening_the_unsubscribe_link_asks_before_unsubscribing(people, smtp, client):
    token = services.unsubscribe_token(people["leader"])
    page = client.get(f"/digests/unsubscribe/{token}/")
    assert page.status_code == 200 and "Stop the cxgov digest?" in page.content.decode()
    assert DigestPreference.objects.get(user=people["leader"]).frequency == "daily"  # a link scanner changes nothing


def test_a_broken_digest_is_recorded_and_the_others_still_go(people, smtp, monkeypatch):
    real = selectors.digest_content

    def broken(user, *args, **kwargs):
        if user == people["leader"]:
            raise RuntimeError("template exploded")
        return real(user, *args, **kwargs)

    monkeypatch.setattr(selectors, "digest_content", broken)
    stats = _run(NOW)
    failed = DigestDelivery.objects.get(user=people["leader"])
    assert failed.status == DeliveryStatus.FAILED and "template exploded" in failed.error
    assert stats["failed"] == 1 and _only(smtp, "cx@example.com")


def test_an_unreachable_smtp_server_leaves_each_digest_waiting_in_the_outbox(people, smtp, client_for):
    from cxgov.lib import outbox as the_outbox

    smtp.stop()
    stats = _run(NOW)  # the mail server is not needed to claim them: each waits, visibly
    waiting = Email.objects.filter(kind="digest")
    assert stats["queued"] == waiting.count() >= 2 and set(waiting.values_list("status", flat=True)) == {"waiting"}
    assert "Connection refused" in waiting.order_by("attempts").last().error
    health = the_outbox.health()
    assert health["waiting"] == waiting.count() and health["oldest_waiting_seconds"] is not None
    page = client_for(people["admin"]).get("/digests/deliveries/?status=waiting").content.decode()
    assert page.count("Waiting to be sent") >= stats["queued"] and "Connection refused" in page
    api = client_for(people["admin"]).get("/api/digest-deliveries/").json()
    assert {d["state"] for d in api["results"]} == {"waiting"} and "next_attempt_at" in api["results"][0]
    smtp.start()
    Email.objects.update(next_attempt_at=timezone.now())
    assert outbox.send_due() == waiting.count() and outbox.send_due() == 0
    recipients = [m["To"] for m in smtp.messages]
    assert sorted(recipients) == sorted(set(recipients)) and len(recipients) == stats["queued"]


def test_a_digest_whose_worker_died_while_sending_is_sent_after_its_lease(people, smtp):
    DigestPreference.objects.exclude(user=people["leader"]).update(frequency="off")
    services.digests_send_due(now=NOW)
    # A worker claimed it and died: the claim holds until its lease ends, then it is sent once.
    Email.objects.update(status="sending", attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert outbox.send_due() == 0
    Email.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.send_due() == 1 and outbox.send_due() == 0
    _only(smtp, "leader@example.com")


def test_another_persons_sent_period_does_not_hide_a_due_digest(people, smtp):
    DigestPreference.objects.exclude(user__in=[people["leader"], people["cx"]]).update(frequency="off")
    DigestDelivery.objects.create(user=people["cx"], period="daily:2026-11-25", frequency="daily", since=NOW)
    DigestDelivery.objects.create(user=people["leader"], period="weekly:2026-11-23", frequency="weekly", since=NOW)
    assert _run(NOW)["queued"] == 1
    _only(smtp, "leader@example.com")


def test_dates_are_the_readers_and_counts_are_whole(people, smtp):
    issue = Issue.objects.get(title="Mixed first bills")
    ActionItem.objects.bulk_create(
        ActionItem(issue=issue, title=f"Late {i}", function=people["billing"], due_date=date(2026, 11, 2))
        for i in range(14)
    )
    closed = Issue.objects.create(title="Closed", function=people["billing"], state="closed_effective")
    ActionItem.objects.create(
        issue=closed, title="Leftover of a closed issue", function=people["billing"], due_date=date(2026, 11, 2)
    )
    # 25 Nov 2026 21:00 UTC is already 26 Nov in Auckland: an item due on the 25th is overdue there.
    ActionItem.objects.create(
        issue=issue, title="Due on the 25th", function=people["billing"], due_date=date(2026, 11, 25)
    )
    evening = selectors.shared_content(NOW + timedelta(hours=12))
    auckland = selectors.digest_content(people["leader"], NOW, evening, time_zone="Pacific/Auckland")
    utc = selectors.digest_content(people["leader"], NOW, evening, time_zone="UTC")
    assert auckland["overdue_count"] == 16 and utc["overdue_count"] == 15
    assert len(auckland["overdue"]) == 10 and auckland["overdue_more"] == 6
    assert "Due on the 25th" in [i.title for i in utc["soon"]]
    titles = [i.title for i in auckland["overdue"]] + [i.title for i in auckland["soon"]]
    assert "Leftover of a closed issue" not in titles


def test_a_batch_prefetch_gives_each_reader_the_digest_they_get_alone(people, smtp):
    """``Prefetched`` over many readers (time zones on both sides of midnight, different windows,
    an issue newly assigned, alerts by ownership, subscription and notice) assembles for each the
    digest that reading for them alone gives."""
    from django.utils import timezone

    from alerts.models import Alert, Delivery
    from alerts.tests.factories import metric_with, rule_on
    from metrics.models import Metric
    from rootcause import services as rootcause_services

    now = timezone.now()
    for n in range(14):  # more than LIST_LIMIT overdue and due soon, across two functions
        ActionItem.objects.create(
            issue=Issue.objects.get(title="Mixed first bills"),
            title=f"Billing step {n}",
            function=people["billing"],
            due_date=now.date() + timedelta(days=n - 7),
        )
        ActionItem.objects.create(
            issue=Issue.objects.get(title="Secret logistics issue"),
            title=f"Logistics step {n}",
            function=people["logistics"],
            due_date=now.date() + timedelta(days=n - 6),
        )
    before = timezone.now()
    rootcause_services.issue_save(
        user=people["cx"], issue=Issue.objects.get(title="Nobody owns this"), fields={"function": people["billing"]}
    )
    ours = metric_with(people, [80, 70])
    theirs = Metric.objects.create(
        name="Parcel NPS", slug="parcel-nps", calculator="nps", owning_function=people["logistics"]
    )
    subscribed = rule_on(theirs, name="Parcel watch")
    subscribed.subscribers.set([people["cx"]])
    for metric, rule, state in ((ours, rule_on(ours, name="CSAT red"), "firing"), (theirs, subscribed, "firing")):
        Alert.objects.create(
            rule=rule, metric=metric, severity="warning", state=state, opened_period=date(2026, 1, 2), message="m",
            fired_at=now,
        )  # fmt: skip
    told = Alert.objects.create(
        rule=rule_on(theirs, name="Parcel told"), metric=theirs, severity="info", state="resolved",
        opened_period=date(2026, 1, 1), message="m", fired_at=now - timedelta(days=3), resolved_at=now,
    )  # fmt: skip
    Delivery.objects.create(alert=told, recipient=people["stakeholder"], kind="fire", created_at=now)
    shared = selectors.shared_content(now + timedelta(hours=1))
    readers = [
        (people["leader"], before - timedelta(seconds=1), "Pacific/Kiritimati"),
        (people["other_leader"], now - timedelta(days=2), "Pacific/Pago_Pago"),
        (people["cx"], now - timedelta(days=1), "UTC"),
        (people["stakeholder"], before - timedelta(days=9), "Europe/London"),
        (people["admin"], now + timedelta(minutes=1), None),
    ]

    def shown(content):
        return {
            key: [getattr(x, "pk", x) for x in value] if isinstance(value, list) else value
            for key, value in content.items()
            if key not in ("user", "metrics")
        }

    batch = selectors.Prefetched(readers, shared)
    results = []
    for user, since, zone in readers:
        together = selectors.digest_content(user, since, shared, time_zone=zone, prefetched=batch)
        alone = selectors.digest_content(user, since, shared, time_zone=zone)
        assert shown(together) == shown(alone), user
        results.append(shown(alone))
    leader, other, cx, stakeholder, admin = results
    assert len(leader["overdue"]) == min(10, leader["overdue_count"]) >= 9 and len(leader["soon"]) >= 6
    assert leader["assigned"]
    assert other["overdue"] and set(other["overdue"]).isdisjoint(leader["overdue"])  # Logistics' own
    assert subscribed.alerts.get().pk in cx["alerts"] and told.pk in stakeholder["alerts"]
    assert told.pk not in cx["alerts"] and admin["assigned"] == []
