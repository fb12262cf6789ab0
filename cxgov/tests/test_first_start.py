"""A first start is quiet: loading the demo replays a year of history without sending its emails,
and digests start at their next scheduled time, not minutes after the first start."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from alerts.models import Delivery
from alerts.services import deliveries_queue_missing
from cxgov.celery import app
from cxgov.lib import outbox
from cxgov.models import Email, EmailStatus, User
from digests import services as digests
from digests.models import DigestPreference

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NEXT_MONDAY_8 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _work_off(sent_tasks):
    """What the worker would do with the background work the demo asked for (tasks may ask for more)."""
    app.loader.import_default_modules()
    while sent_tasks:
        name, kwargs = sent_tasks.pop(0)
        app.tasks[name].apply(kwargs=kwargs, throw=True)


@pytest.mark.django_db(transaction=True)
def test_a_fresh_first_start_sends_no_email_until_a_digest_is_due(smtp, sent_tasks, settings):
    call_command("load_demo")
    _work_off(sent_tasks)
    User.objects.update(date_joined=WEDNESDAY - timedelta(minutes=5))  # the demo was loaded just now

    deliveries_queue_missing()
    digests.digests_send_due(now=WEDNESDAY)
    outbox.send_due()

    assert Delivery.objects.exists()  # the replayed history is in the app (inbox) ...
    assert smtp.messages == []  # ... but none of it was emailed
    assert not Email.objects.filter(status__in=outbox.PENDING).exists()
    assert Email.objects.filter(status=EmailStatus.REPLAYED, kind__startswith="alert_").exists()

    DigestPreference.objects.update_or_create(
        user=User.objects.get(username="admin"), defaults={"frequency": "weekly", "weekday": 0, "hour": 8}
    )
    digests.digests_send_due(now=NEXT_MONDAY_8)
    outbox.send_due()
    assert "admin@" in " ".join(m["To"] for m in smtp.messages)


@pytest.mark.django_db
def test_a_digest_due_before_the_person_joined_waits_for_the_next_period(org):
    leader = org["leader"]
    leader.email = "leader@example.com"
    leader.date_joined = WEDNESDAY
    leader.save()
    DigestPreference.objects.create(user=leader, frequency="weekly", weekday=0, hour=8, time_zone="UTC")

    assert digests.digests_send_due(now=WEDNESDAY + timedelta(minutes=5))["due"] == 0
    assert digests.digests_send_due(now=NEXT_MONDAY_8)["due"] == 1
