"""The organisation core: people and their roles, functions, memberships, accountabilities."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from cxgov.lib.history import ConfigHistory


class Role(models.TextChoices):
    ADMINISTRATOR = "admin", "Administrator"
    CX_TEAM = "cx", "CX team"
    LEADER = "leader", "Functional leader"
    STAKEHOLDER = "stakeholder", "Stakeholder"


class PersonManager(UserManager):
    def get_by_natural_key(self, username):
        """Logging in ignores case: "Leader" is "leader" (usernames are unique ignoring case)."""
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who uses cxgov; their role decides what they may change."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAKEHOLDER)
    title = models.CharField(max_length=120, blank=True, help_text="Job title, e.g. Head of Billing.")
    history = ConfigHistory(excluded_fields=["password", "last_login"])

    objects = PersonManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="username_unique_ignoring_case",
                violation_error_message="Someone has this username already (usernames ignore case).",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Function(models.Model):
    """A team or department (billing, logistics, IT...); has a leader; customer-facing or not."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    customer_facing = models.BooleanField(default=False, help_text="Does this function deal with customers directly?")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    leader = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_functions")
    members = models.ManyToManyField(User, through="Membership", related_name="functions")
    history = ConfigHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="function_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owning_function_id(self) -> int:
        return self.pk


class Membership(models.Model):
    """A person's membership of a function; a person may belong to several functions."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="memberships")
    position = models.CharField(max_length=120, blank=True, help_text="Their part in this function.")
    joined_on = models.DateField(null=True, blank=True)
    history = ConfigHistory()

    class Meta:
        ordering = ["function__name", "person__first_name", "person__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["person", "function"], name="membership_unique_person_function"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.function}"

    @property
    def owning_function_id(self) -> int:
        return self.function_id


class Raci(models.TextChoices):
    RESPONSIBLE = "R", "Responsible"
    ACCOUNTABLE = "A", "Accountable"
    CONSULTED = "C", "Consulted"
    INFORMED = "I", "Informed"


class Accountability(models.Model):
    """A function's assigned responsibility for an outcome, metric, theme or issue, with a RACI role.

    ``subject`` names what the function is accountable for. Later parts of the product
    (metrics, canvases, themes, issues) attach their objects through ``subject_type`` and
    ``subject_id``; an accountability may also stand on its own (a process or a policy).
    """

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="accountabilities")
    role = models.CharField(max_length=1, choices=Raci.choices)
    subject = models.CharField(max_length=200, help_text="What the function is accountable for.")
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject_object = GenericForeignKey("subject_type", "subject_id")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = ConfigHistory()

    class Meta:
        ordering = ["subject", "role", "function__name"]
        verbose_name_plural = "accountabilities"
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["function", "subject", "role"], name="accountability_unique_function_subject_role"
            ),
            # RACI: exactly one function is Accountable for a linked object.
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=Q(role="A", subject_type__isnull=False),
                name="accountability_one_accountable_per_object",
            ),
            # "Invoice accuracy" and "invoice accuracy" are one subject.
            models.UniqueConstraint(
                Lower("subject"),
                condition=Q(role="A", subject_type__isnull=True),
                name="accountability_one_accountable_per_subject_ci",
            ),
            models.CheckConstraint(
                condition=Q(subject_type__isnull=True, subject_id__isnull=True)
                | Q(subject_type__isnull=False, subject_id__isnull=False),
                name="accountability_subject_link_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.function}: {self.get_role_display()} for {self.subject}"

    @property
    def owning_function_id(self) -> int:
        return self.function_id


class Heartbeat(models.Model):
    """The last time a background process (worker, beat) checked in; read by the health page."""

    name = models.CharField(max_length=40, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)
    # What keeps it from doing its job although it is alive (beat: the broker refuses its tasks).
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class DataVersion(models.Model):
    """A counter per kind of data, bumped after every committed change to it by the services that
    make the change: cached analyses are keyed by it, so a change makes them stale at once, in
    every process (see cxgov/lib/heavy.py)."""

    name = models.CharField(max_length=40, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class EmailStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed for good"
    REPLAYED = "replayed", "Not sent: history replayed when the demo loaded"


class Email(models.Model):
    """An email in the outbox: stored with the change that caused it, sent by a worker, retried
    with back-off until it is sent or given up (see ``cxgov/lib/outbox.py``)."""

    key = models.CharField(max_length=100, unique=True, help_text="What it is about; the same email is stored once.")
    kind = models.CharField(max_length=40, help_text="Which message it is, e.g. alert_fired, digest.")
    to = models.JSONField(default=list)
    from_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.WAITING)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(
        help_text="Waiting: when it may next be tried. Sending: when the send counts as dead (its lease ends)."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="The last failure.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.to)} ({self.status})"


class PendingTask(models.Model):
    """Background work a change asked for (recalculate, evaluate, tag, import), stored in the same
    transaction as the change and handed to the broker after commit: a transactional outbox, so a
    broker outage delays the work but never loses it. Deleted once the broker has accepted it."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # Due for the sweeper from this time; a sender moves it ahead while it tries (a claim).
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.task}({self.kwargs})"
