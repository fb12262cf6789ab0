"""The outbox: emails stored with their change are sent once by whoever claims them, wait longer
after each failure without two beats spending attempts faster, are retried for a day, survive a
worker that died mid-send, go out once when mail comes back, and show on the health page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone

from cxgov.lib import outbox
from cxgov.models import Email

pytestmark = pytest.mark.django_db


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def _queue(n: int = 1, key: str | None = None) -> list[Email]:
    emails = []
    for i in range(n):
        message = EmailMultiAlternatives(f"Notice {i}", f"Body {i}", to=[f"person{i}@example.com"])
        message.attach_alternative(f"<p>Body {i}</p>", "text/html")
        emails.append(outbox.enqueue(message, kind="test", key=key or f"test:{i}"))
    return emails


def test_an_email_is_stored_once_per_key_with_both_parts_and_sent_once():
    first = _queue(key="alert-notice:1")[0]
    again = _queue(key="alert-notice:1")[0]  # a retried task stores nothing new
    assert first.pk == again.pk and Email.objects.count() == 1
    assert outbox.send_due() == 1 and outbox.send_due() == 0
    [message] = mail.outbox
    assert message.subject == "Notice 0" and message.to == ["person0@example.com"] and message.body == "Body 0"
    assert message.alternatives[0] == ("<p>Body 0</p>", "text/html")
    first.refresh_from_db()
    assert first.status == "sent" and first.sent_at and first.attempts == 1


def test_each_failed_attempt_waits_longer_up_to_a_cap(settings):
    settings.OUTBOX_FIRST_RETRY, settings.OUTBOX_MAX_BACKOFF = 60, 30 * 60
    waits = [outbox.backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1800, 1800, 1800]


def test_two_beats_do_not_spend_attempts_faster_during_a_mail_outage(smtp, clock, settings):
    settings.OUTBOX_FIRST_RETRY, settings.OUTBOX_MAX_BACKOFF = 60, 30 * 60
    smtp.stop()
    _queue(4)
    tried = {email.pk: [] for email in Email.objects.all()}
    # Seven minutes of outage with two beats sweeping every 30 seconds (the report's case spent 5
    # attempts of 3 of 4 notices in 6.5 minutes).
    for _ in range(15):
        for _beat in range(2):
            before = dict(Email.objects.values_list("pk", "attempts"))
            assert outbox.send_due() == 0
            for pk, attempts in Email.objects.values_list("pk", "attempts"):
                tried[pk] += [clock.now] * (attempts - before[pk])
        clock.advance(seconds=30)
    assert set(Email.objects.values_list("status", flat=True)) == {"waiting"}
    assert "Connection refused" in Email.objects.exclude(attempts=0).first().error
    assert len(tried) == 4  # the loop below checks every queued email
    start = min(min(times) for times in tried.values())
    for times in tried.values():
        # Tried first within the first minute (the beats share the batch), then exactly when each
        # back-off ends: 1, 2 and 4 minutes later; three or four attempts in the 7.5 minutes, not five.
        assert times[0] - start < timedelta(minutes=1) and 3 <= len(times) <= 4, times
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert gaps == [outbox.backoff(n) for n in range(1, len(times))], gaps

    smtp.start()
    clock.advance(minutes=30)  # the longest back-off so far has passed
    assert outbox.send_due() == 4 and outbox.send_due() == 0
    assert sorted(m["To"] for m in smtp.messages) == [f"person{i}@example.com" for i in range(4)]


def test_when_a_fresh_email_gets_through_those_waiting_for_the_server_go_at_once(smtp, clock, monkeypatch):
    from cxgov import tasks

    monkeypatch.setattr(tasks.outbox_send_due, "delay", lambda: None)  # the run that follows is below
    smtp.stop()
    _queue(3)
    for _ in range(3):
        outbox.send_due()
    Email.objects.filter(key="test:2").update(error="SMTPRecipientsRefused: 451 mailbox busy")  # not the server
    smtp.start()
    clock.advance(seconds=5)  # long before the end of any back-off
    [fresh] = _queue(key="test:fresh")
    assert outbox.send(email_id=fresh.pk) is True  # mail is back: the probe costs no waiting email an attempt
    assert outbox.send_due() == 2
    assert sorted(m["To"] for m in smtp.messages) == [
        "person0@example.com",
        "person0@example.com",
        "person1@example.com",
    ]
    assert Email.objects.get(key="test:2").status == "waiting"  # its own trouble keeps its back-off


def test_a_claimed_email_is_not_claimed_again_by_a_second_beat(clock):
    [email] = _queue()
    assert outbox._claim(email.pk, clock.now) is True
    assert outbox._claim(email.pk, clock.now) is False  # the same moment, another beat: nothing due
    email.refresh_from_db()
    assert email.attempts == 1 and email.status == "sending"


def test_failed_sends_are_retried_for_a_day_then_given_up(smtp, clock, settings):
    settings.OUTBOX_RETRY_FOR = 24 * 60 * 60
    smtp.stop()
    [email] = _queue()
    while clock.now - email.created_at < timedelta(hours=23, minutes=59):
        outbox.send_due()
        clock.advance(minutes=5)
    email.refresh_from_db()
    assert email.status == "waiting" and email.attempts > 10
    clock.advance(hours=1)
    outbox.send_due()
    email.refresh_from_db()
    assert email.status == "failed" and "Connection refused" in email.error
    health = outbox.health()
    assert health["ok"] is False and health["failed"] == 1 and "failed for good" in health["error"]
    # Once the cause is fixed an administrator sends it again.
    smtp.start()
    assert outbox.retry_failed(email_ids=[email.pk]) == 1
    assert outbox.send_due() == 1 and len(smtp.messages) == 1


def test_a_recipient_refused_for_good_is_not_retried(smtp):
    smtp.fail = ["550 5.1.1 No such user"]
    [refused, fine] = _queue(2)
    assert outbox.send_due() == 1  # the next email still goes in the same run
    refused.refresh_from_db()
    assert refused.status == "failed" and "550" in refused.error
    assert [m["To"] for m in smtp.messages] == ["person1@example.com"]


def test_a_send_whose_worker_died_is_retried_after_its_lease(clock, settings):
    settings.OUTBOX_LEASE = 600
    [email] = _queue()
    assert outbox._claim(email.pk, clock.now)  # a worker claims it, then dies before sending
    clock.advance(minutes=9)
    assert outbox.send_due() == 0 and mail.outbox == []  # it may still be sending
    clock.advance(minutes=2)
    assert outbox.send_due() == 1 and outbox.send_due() == 0
    email.refresh_from_db()
    assert email.status == "sent" and email.attempts == 2 and len(mail.outbox) == 1


def test_a_send_that_keeps_killing_its_worker_is_given_up_after_a_day(clock, settings):
    settings.OUTBOX_RETRY_FOR, settings.OUTBOX_LEASE = 24 * 60 * 60, 600
    [email] = _queue()
    clock.advance(hours=23, minutes=55)
    assert outbox._claim(email.pk, clock.now)  # its worker dies once more
    clock.advance(minutes=11)
    assert outbox.send_due() == 0 and mail.outbox == []
    email.refresh_from_db()
    assert email.status == "failed" and "its worker stopped" in email.error


def test_the_health_page_names_what_waits_and_for_how_long(client, clock, settings):
    settings.OUTBOX_HEALTH_MAX_WAIT = 15 * 60
    assert outbox.health() == {"ok": True, "waiting": 0, "oldest_waiting_seconds": None, "failed": 0}
    _queue(2)
    clock.advance(minutes=5)
    assert outbox.health() == {"ok": True, "waiting": 2, "oldest_waiting_seconds": 300, "failed": 0}
    Email.objects.update(error="ConnectionRefusedError: [Errno 111] Connection refused")
    clock.advance(minutes=11)
    part = client.get("/healthz").json()["checks"]["outbox"]
    assert part["ok"] is False and part["waiting"] == 2 and part["oldest_waiting_seconds"] == 960
    assert "2 email(s) waiting, the oldest for 16 min" in part["error"] and "Connection refused" in part["error"]
    outbox.send_due()
    assert outbox.health()["ok"] is True


def test_a_broker_that_does_not_answer_only_delays_the_email(monkeypatch, django_capture_on_commit_callbacks):
    from cxgov import tasks

    def broker_down(email_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.outbox_send, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        [email] = _queue()
    email.refresh_from_db()
    assert email.status == "waiting"
    assert outbox.send_due() == 1  # the periodic sweep sends it


def test_an_administrator_sends_failed_emails_again_from_the_admin(client):
    from cxgov.models import User

    [failed, sent] = _queue(2)
    Email.objects.filter(pk=failed.pk).update(status="failed", error="SMTPDataError: 550")
    Email.objects.filter(pk=sent.pk).update(status="sent")
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    page = client.get("/admin/cxgov/email/?status__exact=failed")
    assert page.status_code == 200 and "Notice 0" in page.content.decode()
    client.post("/admin/cxgov/email/", {"action": "send_again", "_selected_action": [failed.pk, sent.pk]})
    assert dict(Email.objects.values_list("pk", "status")) == {failed.pk: "waiting", sent.pk: "sent"}
    assert outbox.send_due() == 1 and mail.outbox[0].subject == "Notice 0"


def test_old_sent_emails_are_forgotten_and_failures_kept(clock, settings):
    settings.OUTBOX_KEEP_DAYS = 30
    [sent, failed, recent] = _queue(3)
    Email.objects.filter(pk__in=[sent.pk, recent.pk]).update(status="sent", sent_at=clock.now)
    Email.objects.filter(pk=failed.pk).update(status="failed")
    clock.advance(days=31)
    Email.objects.filter(pk=recent.pk).update(sent_at=clock.now)
    assert outbox.prune() == 1
    assert set(Email.objects.values_list("pk", flat=True)) == {failed.pk, recent.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's setting")
@pytest.mark.django_db(transaction=True)
def test_each_sent_mark_does_not_wait_for_the_disk_and_the_session_keeps_its_setting():
    """On PostgreSQL each email's "sent" mark commits without waiting for the disk (a worker that
    dies still leaves its marks), for that statement only: nothing lingers on the connection."""
    from django.test.utils import CaptureQueriesContext

    _queue(2)
    with CaptureQueriesContext(connection) as queries:
        assert outbox.send_due() == 2
    marks = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "sent_at =" in q["sql"]]
    assert len(marks) == 2 and all("set_config('synchronous_commit', 'off', true)" in sql for sql in marks)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert set(Email.objects.values_list("status", flat=True)) == {"sent"}


def test_a_batch_of_emails_is_stored_whole_with_its_ids_and_a_key_stored_twice_is_refused():
    """``enqueue_many`` (digests' batches): every email with both parts, headers and its id; a key
    already stored refuses the whole batch (IntegrityError, for the caller's one-by-one fallback)."""
    from django.db import IntegrityError

    def message(i):
        body = f"Body {i} with 'quotes' and \\\\ backslashes"
        m = EmailMultiAlternatives(f"Digest {i}", body, to=[f"p{i}@example.com"])
        m.attach_alternative(f'<p class="x">Body {i} &amp; "quoted"</p>' * 200, "text/html")
        m.extra_headers = {"List-Unsubscribe": f"<https://example.com/u/{i}>"}
        return m

    stored = outbox.enqueue_many([(f"digest:{i}:2026-W49", message(i)) for i in range(3)], kind="digest")
    assert all(e.pk for e in stored)
    for i, email in enumerate(stored):
        email = Email.objects.get(pk=email.pk)
        assert email.key == f"digest:{i}:2026-W49" and email.to == [f"p{i}@example.com"]
        assert email.body == f"Body {i} with 'quotes' and \\\\ backslashes"
        assert email.html == f'<p class="x">Body {i} &amp; "quoted"</p>' * 200
        assert email.headers == {"List-Unsubscribe": f"<https://example.com/u/{i}>"}
    with pytest.raises(IntegrityError), transaction.atomic():
        outbox.enqueue_many([("digest:9:2026-W49", message(9)), ("digest:1:2026-W49", message(1))], kind="digest")
    assert not Email.objects.filter(key="digest:9:2026-W49").exists()
