"""The permission matrix: every endpoint × method × role, generated from the capability table.

``ENDPOINTS`` names, for every URL the project serves (the Django URL resolver and the DRF
router, walked below), the capability each method needs; the roles that hold it come from
``cxgov.lib.permissions.CAPABILITIES``. A method an endpoint has no row for must be refused to
everyone. An endpoint without a row fails ``test_every_endpoint_has_a_row``, so a new URL
cannot ship without saying who may use it.

Refused means 401, 403, 404, 405 or a redirect to a login page; allowed means anything else
below 500 (a 400 for an empty body is allowed: the request got past the permissions). Writes
to a function's things run twice: on an object (or a body) of the leader's own function, and
of another function.

One set of objects serves the whole module; each case runs in a savepoint rolled back after it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cxgov.lib.permissions import ADMIN as ADMIN_ROLE
from cxgov.lib.permissions import CAPABILITIES, LEADER, ROLES, STAKEHOLDER
from cxgov.lib.permissions import CX as CX_ROLE

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MATRIX_ROLES = ("admin", "cx", "leader", "stakeholder", "anonymous")
ROLE_OF = {"admin": ADMIN_ROLE, "cx": CX_ROLE, "leader": LEADER, "stakeholder": STAKEHOLDER, "anonymous": None}
PUBLIC = "public"  # anyone, signed in or not


@dataclass(frozen=True)
class Row:
    """Who may call one endpoint: the capability per method (missing methods are refused to all).

    ``obj`` names the object in the URL (see ``_build_world``); ``owned`` says the object, or the
    body, belongs to a function, so leaders' cases run on their own function's and on another's.
    ``data`` builds the request body per method from the objects, when an empty one would be
    refused for a reason other than permission (a form whose choices are checked first)."""

    methods: dict[str, str]
    obj: str | None = None
    owned: bool = False
    data: dict = field(default_factory=dict)


def read() -> dict[str, str]:
    """A page with no form: a POST is answered as a read, so it needs what GET needs."""
    return {"GET": "view", "POST": "view"}


def form(capability: str) -> dict[str, str]:
    return {"GET": capability, "POST": capability}


def post(capability: str) -> dict[str, str]:
    return {"POST": capability}


VIEW = {"GET": "view"}


def api_list(write: str | None) -> dict[str, str]:
    return {"GET": "view", **({"POST": write} if write else {})}


def api_detail(write: str | None, *, delete: str | None = None) -> dict[str, str]:
    methods = {"GET": "view"}
    if write:
        methods.update({"PUT": write, "PATCH": write})
    if delete:
        methods["DELETE"] = delete
    return methods


CHANGE = "change_function"

ENDPOINTS: dict[str, Row] = {
    # --- the organisation core -------------------------------------------------------------
    "home": Row(read()),
    "function-list": Row(read()),
    "function-create": Row(form("configure_organisation")),
    "function-detail": Row(read(), obj="function"),
    "function-edit": Row(form("edit_function_profile"), obj="function", owned=True),
    "accountability-list": Row(read()),
    "accountability-create": Row(form(CHANGE)),
    "accountability-edit": Row(form(CHANGE), obj="accountability", owned=True),
    "accountability-delete": Row(post(CHANGE), obj="accountability", owned=True),
    "people": Row(read()),
    "demo-about": Row(read()),
    "person-create": Row(form("configure_organisation")),
    "person-edit": Row(form("configure_organisation"), obj="person"),
    "healthz": Row({"GET": PUBLIC}),
    "favicon": Row({"GET": PUBLIC}),
    "login": Row({"GET": PUBLIC, "POST": PUBLIC}),
    "logout": Row({"POST": PUBLIC}),
    "password_change": Row(form("view")),
    "password_change_done": Row(VIEW),
    # --- metrics -------------------------------------------------------------------------------
    "metric-list": Row(read()),
    "metric-create": Row(form("configure_organisation")),
    "kpi-audit": Row(read()),
    "business-impact": Row(read()),
    "driver-analysis": Row(read()),
    "import-list": Row(form("import_data")),
    "import-template": Row({"GET": "import_data"}),
    "import-detail": Row(form("import_data"), obj="import_job"),
    "import-progress": Row(form("import_data"), obj="import_job"),
    "metric-detail": Row(read(), obj="metric"),
    "metric-edit": Row(form("configure_organisation"), obj="metric"),
    "metric-schedule": Row(form("configure_organisation"), obj="metric"),
    "metric-schedule-preview": Row({"GET": "configure_organisation"}, obj="metric"),
    "metric-drivers": Row(read(), obj="metric"),
    # --- outcomes ------------------------------------------------------------------------------
    "category-list": Row(read()),
    "north-star": Row(read()),
    "canvas-detail": Row(read(), obj="category"),
    "canvas-draft": Row(post("write_canvases"), obj="category"),
    "canvas-edit": Row(form("write_canvases"), obj="category"),
    "canvas-approve": Row(post("write_canvases"), obj="category"),
    # --- root causes -----------------------------------------------------------------------------
    "taxonomy": Row(read()),
    "driver-create": Row(form("edit_taxonomy")),
    "driver-edit": Row(form("edit_taxonomy"), obj="key_driver"),
    "sub-theme-create": Row(form("edit_taxonomy")),
    "sub-theme-edit": Row(form("edit_taxonomy"), obj="sub_theme"),
    "untagged": Row(read()),
    "tag": Row(
        post("tag_comments"), data={"POST": lambda w: {"response": w["response"].pk, "sub_theme": w["sub_theme"].pk}}
    ),
    "comments": Row(read()),
    "comments-bulk": Row(
        post("tag_comments"), data={"POST": lambda w: {"action": "add", "sub_theme": w["sub_theme"].pk}}
    ),
    "bulk-job-progress": Row(read(), obj="bulk_job"),
    "pareto": Row({"GET": "view", "POST": "save_pareto_snapshots"}),
    "what-works": Row({"GET": "view", "POST": "save_pareto_snapshots"}),
    "discovery": Row({"GET": "view", "POST": "edit_taxonomy"}),
    "discovery-run": Row(read(), obj="discovery_run"),
    "discovery-adopt": Row(post("edit_taxonomy"), obj="discovery_run"),
    "decision-points": Row(read()),
    "workflow-create": Row(form(CHANGE)),
    "workflow-edit": Row(form(CHANGE), obj="workflow", owned=True),
    "decision-point-create": Row(form(CHANGE)),
    "decision-point-edit": Row(form(CHANGE), obj="decision_point", owned=True),
    "issue-list": Row(read()),
    "issue-create": Row(form(CHANGE)),
    "issue-detail": Row(read(), obj="issue"),
    "issue-edit": Row(form(CHANGE), obj="issue", owned=True),
    "issue-whys": Row(form(CHANGE), obj="issue", owned=True),
    "issue-state": Row(post(CHANGE), obj="issue", owned=True, data={"POST": lambda w: {"state": "investigating"}}),
    "issue-verify": Row(post(CHANGE), obj="issue", owned=True),
    "action-item-create": Row(form(CHANGE), obj="issue", owned=True),
    "action-item-edit": Row(form(CHANGE), obj="action_item", owned=True),
    "action-item-update": Row(
        post(CHANGE), obj="action_item", owned=True, data={"POST": lambda w: {"text": "Matrix note"}}
    ),
    "action-item-history": Row(read(), obj="action_item"),
    "retag-progress": Row(read()),
    "text-models": Row(
        {"GET": "view", "POST": "edit_taxonomy"}, data={"POST": lambda w: {"driver": w["key_driver"].pk}}
    ),
    "text-model-detail": Row(read(), obj="text_model"),
    "text-model-activate": Row(post("edit_taxonomy"), obj="text_model"),
    "text-model-deactivate": Row(post("edit_taxonomy"), obj="text_model"),
    "review": Row(
        {"GET": "view", "POST": "tag_comments"},
        data={"POST": lambda w: {"tag": w["model_tag"].pk, "sub_theme": w["sub_theme"].pk}},
    ),
    # --- digests -------------------------------------------------------------------------------
    "digest-preferences": Row(form("view")),
    "digest-preview": Row(read()),
    "digest-deliveries": Row(read()),
    "digest-defaults": Row(form("configure_organisation")),
    "digest-unsubscribe": Row({"GET": PUBLIC, "POST": PUBLIC}, obj="token"),
    # --- alerts --------------------------------------------------------------------------------
    "alert-inbox": Row(read()),
    "alert-detail": Row(read(), obj="alert"),
    "alert-acknowledge": Row(post("acknowledge_alerts"), obj="alert", owned=True),
    "alert-mute": Row(post("acknowledge_alerts"), obj="alert", owned=True, data={"POST": lambda w: {"unmute": "1"}}),
    "alert-rules": Row(read(), obj="metric"),
    "alert-rule-create": Row(form("write_alert_rules"), obj="metric"),
    "alert-rule-edit": Row(form("write_alert_rules"), obj="alert_rule"),
    "alert-rule-create-preview": Row({"GET": "write_alert_rules"}, obj="metric"),
    "alert-rule-edit-preview": Row({"GET": "write_alert_rules"}, obj="alert_rule"),
    "alert-rule-index": Row(read()),
    "alert-rule-delete": Row(post("write_alert_rules"), obj="alert_rule"),
    "alert-rule-detail": Row(read(), obj="alert_rule"),
    "alert-rule-replay": Row(post("write_alert_rules"), obj="alert_rule"),
    # --- ownership -----------------------------------------------------------------------------
    "ownership:map": Row(read()),
    "ownership:map-export": Row(VIEW, obj="export"),
    "ownership:workspace": Row(read()),
    "ownership:scorecard": Row(VIEW),
    "ownership:workspace-issues": Row(VIEW),
    "ownership:item-update": Row(
        post(CHANGE), obj="action_item", owned=True, data={"POST": lambda w: {"text": "Matrix note"}}
    ),
    "ownership:triage": Row(form("assign_issues")),
    "ownership:triage-assign": Row(post("assign_issues")),
    "ownership:triage-choices": Row({"GET": "assign_issues"}, obj="choices"),
    "ownership:executive": Row(read()),
    "ownership:ledger": Row(read()),
    "ownership:ledger-export": Row(VIEW, obj="export"),
    "ownership:ledger-costs": Row({"GET": "view", "POST": "set_ledger_costs"}),
    # --- the audit trail -----------------------------------------------------------------------
    "audit:log": Row({"GET": "read_audit"}),
    "api:audit": Row({"GET": "read_audit"}),
    "admin:index": Row(form("configure_organisation")),
    # --- the API -------------------------------------------------------------------------------
    "api:api-root": Row(VIEW),
    "api:schema": Row(VIEW),
    "api:docs": Row(VIEW),
    "api:digest-preferences": Row({"GET": "view", "PUT": "view", "PATCH": "view"}),
    "api:ingest-responses": Row(post("import_data")),
    "api:ingest-observations": Row(post("import_data")),
    "api:ingest-customers": Row(post("import_data")),
    "api:pareto": Row(VIEW),
    "api:north-star": Row(VIEW),
    "api:kpi-audit": Row(VIEW),
    "api:business-impact": Row(VIEW),
    "api:not-found": Row({}, obj="unknown_address"),  # any other /api/ address: 404 (or 403) to everyone
    "api:ownership-map": Row(VIEW),
    "api:ownership-scorecard": Row(VIEW),
    "api:ledger": Row(VIEW),
    "api:ledger-cases": Row(VIEW),
    "api:function-list": Row(api_list("configure_organisation"), data={"POST": lambda w: {"name": "Matrix function"}}),
    "api:function-detail": Row(
        api_detail("edit_function_profile", delete="configure_organisation"), obj="function", owned=True
    ),
    "api:membership-list": Row(api_list("configure_organisation")),
    "api:membership-detail": Row(
        api_detail("configure_organisation", delete="configure_organisation"), obj="membership"
    ),
    "api:accountability-list": Row(
        api_list(CHANGE),
        owned=True,
        data={"POST": lambda w: {"function": w["function"].pk, "role": "R", "subject": "Matrix subject"}},
    ),
    "api:accountability-detail": Row(api_detail(CHANGE, delete=CHANGE), obj="accountability", owned=True),
    "api:metric-list": Row(api_list("configure_organisation")),
    "api:metric-detail": Row(api_detail("configure_organisation", delete="configure_organisation"), obj="metric"),
    "api:metric-drivers": Row(VIEW, obj="metric"),
    "api:driver-analysis": Row(VIEW),
    "api:metricvalue-list": Row(VIEW),
    "api:metricvalue-detail": Row(VIEW, obj="metric_value"),
    "api:customercategory-list": Row(api_list("write_canvases")),
    "api:customercategory-detail": Row(api_detail("write_canvases", delete="write_canvases"), obj="category"),
    "api:canvas-list": Row(api_list("write_canvases")),
    "api:canvas-detail": Row(api_detail("write_canvases"), obj="canvas"),
    "api:canvas-approve": Row(post("write_canvases"), obj="canvas"),
    "api:canvas-retire": Row(post("write_canvases"), obj="canvas"),
    "api:keydriver-list": Row(VIEW),
    "api:keydriver-detail": Row(VIEW, obj="key_driver"),
    "api:comment-list": Row(VIEW),
    "api:comment-detail": Row(VIEW, obj="response"),
    "api:commenttag-list": Row(
        api_list("tag_comments"),
        data={"POST": lambda w: {"response": w["response"].pk, "sub_theme": w["sub_theme"].pk}},
    ),
    "api:commenttag-detail": Row(VIEW, obj="comment_tag"),
    "api:commenttag-remove": Row(post("tag_comments"), obj="comment_tag"),
    "api:commenttag-bulk": Row(
        post("tag_comments"), data={"POST": lambda w: {"action": "add", "sub_theme": w["sub_theme"].pk}}
    ),
    "api:bulktagjob-list": Row(VIEW),
    "api:discoveryrun-list": Row(api_list("edit_taxonomy")),
    "api:discoveryrun-detail": Row(VIEW, obj="discovery_run"),
    "api:discoveryrun-adopt": Row(post("edit_taxonomy"), obj="discovery_run"),
    "api:textmodel-list": Row(VIEW),
    "api:textmodel-detail": Row(VIEW, obj="text_model"),
    "api:textmodel-train": Row(post("edit_taxonomy"), data={"POST": lambda w: {"driver": w["key_driver"].slug}}),
    "api:textmodel-activate": Row(post("edit_taxonomy"), obj="text_model"),
    "api:textmodel-deactivate": Row(post("edit_taxonomy"), obj="text_model"),
    "api:review-queue-list": Row(VIEW),
    "api:review-queue-detail": Row(VIEW, obj="model_tag"),
    "api:review-queue-label": Row(
        post("tag_comments"), obj="model_tag", data={"POST": lambda w: {"sub_theme": w["sub_theme"].pk}}
    ),
    "api:bulktagjob-detail": Row(VIEW, obj="bulk_job"),
    "api:workflow-list": Row(VIEW),
    "api:workflow-detail": Row(VIEW, obj="workflow"),
    "api:issue-list": Row(
        api_list(CHANGE), owned=True, data={"POST": lambda w: {"title": "Matrix issue", "function": w["function"].pk}}
    ),
    "api:issue-detail": Row(api_detail(CHANGE), obj="issue", owned=True),
    "api:issue-transition": Row(
        post(CHANGE), obj="issue", owned=True, data={"POST": lambda w: {"state": "investigating"}}
    ),
    "api:issue-whys": Row({"PUT": CHANGE}, obj="issue", owned=True, data={"PUT": lambda w: []}),
    "api:actionitem-list": Row(
        api_list(CHANGE),
        owned=True,
        data={
            "POST": lambda w: {
                "issue": w["issue"].pk,
                "title": "Matrix item",
                "function": w["function"].pk,
                "due_date": "2027-01-15",
            }
        },
    ),
    "api:actionitem-detail": Row(api_detail(CHANGE), obj="action_item", owned=True),
    "api:actionitem-history": Row(VIEW, obj="action_item"),
    "api:actionitem-updates": Row(
        {"GET": "view", "POST": CHANGE}, obj="action_item", owned=True, data={"POST": lambda w: {"text": "Note"}}
    ),
    "api:digestdelivery-list": Row(VIEW),
    # Someone else's delivery: only those who read everyone's digests see it.
    "api:digestdelivery-detail": Row({"GET": "configure_organisation"}, obj="delivery"),
    "api:alertrule-list": Row(api_list("write_alert_rules")),
    "api:alertrule-detail": Row(api_detail("write_alert_rules", delete="write_alert_rules"), obj="alert_rule"),
    "api:alertrule-replay": Row(post("write_alert_rules"), obj="alert_rule"),
    "api:alert-list": Row(VIEW),
    "api:alert-detail": Row(VIEW, obj="alert"),
    "api:alert-acknowledge": Row(post("acknowledge_alerts"), obj="alert", owned=True),
    "api:alert-mute": Row(
        post("acknowledge_alerts"), obj="alert", owned=True, data={"POST": lambda w: {"until": None}}
    ),
}

# The Django admin has its own gate (staff status, given with the administrator role, and model
# permissions; see tests/test_admin_read_only.py): the matrix checks its front door only.
EXCLUDED_PREFIXES = ("admin/",)
INCLUDED = {"admin:index"}


# --- the routers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    kwargs: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            yield from _walk(pattern, route, f"{namespace}:{inner}" if namespace and inner else inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, route, pattern


def endpoints() -> list[Endpoint]:
    """Every URL the project serves, once per name (DRF's format-suffix twins are the same view)."""
    found: dict[str, Endpoint] = {}
    for name, route, pattern in _walk(get_resolver()):
        if route.startswith(EXCLUDED_PREFIXES) and name not in INCLUDED:
            continue
        kwargs = tuple(k for k in pattern.pattern.regex.groupindex if k != "format")
        if "format" in pattern.pattern.regex.groupindex or "drf_format_suffix" in route:
            continue
        key = name or f"<unnamed {route}>"
        found.setdefault(key, Endpoint(key, route, kwargs))
    return list(found.values())


ALL_ENDPOINTS = endpoints()


# --- expectations from the table -----------------------------------------------------------------


def expected_allowed(capability: str | None, role: str, variant: str | None) -> bool:
    if capability is None:
        return False
    if capability == PUBLIC:
        return True
    role_value = ROLE_OF[role]
    if role_value is None:
        return False
    rule = CAPABILITIES[capability]
    if role_value in rule.roles:
        return True
    if rule.led_functions and role_value == LEADER:
        return variant != "other"  # their own function's, or "any": the leader holds it somewhere
    return False


def cases():
    for endpoint in ALL_ENDPOINTS:
        row = ENDPOINTS.get(endpoint.name)
        if row is None:
            continue  # test_every_endpoint_has_a_row names it
        for method in METHODS:
            capability = row.methods.get(method)
            # Writes to a function's things run on the leader's own function and on another's,
            # whatever the capability: an object permission may leak where the table says no.
            variants = ("own", "other") if row.owned and capability not in ("view", PUBLIC) else ("any",)
            for variant in variants:
                for role in MATRIX_ROLES:
                    verdict = "allow" if expected_allowed(capability, role, variant) else "deny"
                    yield pytest.param(
                        endpoint,
                        variant,
                        method,
                        role,
                        verdict,
                        id=f"{endpoint.name}[{variant}] {method} {role} -> {verdict}",
                    )


# --- the objects ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One organisation for every case: Billing led by ``leader`` ("own"), Logistics by someone
    else ("other"), with governed work in both. Rolled back when the module ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        objects = _build_world()
        yield objects
        transaction.set_rollback(True)


def _build_world() -> dict:
    from alerts.models import Alert, AlertRule
    from cxgov.models import Accountability, Function, Membership, Role, User
    from digests.models import DigestDelivery
    from metrics.models import ImportJob, Metric, MetricValue, SurveyResponse
    from outcomes.models import Canvas, CustomerCategory
    from rootcause.models import (
        ActionItem,
        BulkTagJob,
        CommentTag,
        DecisionPoint,
        DiscoveryRun,
        Issue,
        KeyDriver,
        SubTheme,
        TextModel,
        Workflow,
    )

    def person(username, role, **extra):
        user = User(username=username, role=role, first_name=username.title(), **extra)
        user.set_unusable_password()
        user.save()
        return user

    users = {
        "admin": person("admin", Role.ADMINISTRATOR, is_staff=True),
        "cx": person("cx", Role.CX_TEAM),
        "leader": person("leader", Role.LEADER),
        "other_leader": person("other_leader", Role.LEADER),
        "stakeholder": person("stakeholder", Role.STAKEHOLDER),
    }
    now = timezone.now()
    today = timezone.localdate()
    driver = KeyDriver.objects.create(name="Billing", slug="billing")
    sub_theme = SubTheme.objects.create(driver=driver, name="Wrong bills", slug="wrong-bills", keywords="bill")
    category = CustomerCategory.objects.create(name="Households", slug="households")
    Canvas.objects.create(category=category, version=1, state="approved", approved_at=now)
    draft = Canvas.objects.create(category=category, version=2)
    shared = {
        "person": users["stakeholder"],
        "key_driver": driver,
        "sub_theme": sub_theme,
        "category": category,
        "canvas": draft,
        "import_job": ImportJob.objects.create(
            kind="responses", file_name="x.csv", stored_path="missing.csv", status="failed", created_by=users["cx"]
        ),
        "response": SurveyResponse.objects.create(
            source="survey", external_id="r1", responded_at=now, score=2, scale="csat", comment="wrong bill"
        ),
        "delivery": DigestDelivery.objects.create(
            user=users["other_leader"], period="weekly:2026-11-23", frequency="weekly", since=now - timedelta(days=7)
        ),
        "bulk_job": BulkTagJob.objects.create(action="add", sub_theme=sub_theme, total=1, created_by=users["cx"]),
        "discovery_run": DiscoveryRun.objects.create(created_by=users["cx"], finished_at=now),
        "token": "not-a-real-token",
        "export": "csv",
        "choices": "functions",
        "unknown_address": "no-such-endpoint/",
    }
    shared["comment_tag"] = CommentTag.objects.create(response=shared["response"], sub_theme=sub_theme)
    shared["text_model"] = TextModel.objects.create(driver=driver, version=1, status="active", n_labels=12)
    shared["model_tag"] = CommentTag.objects.create(
        response=SurveyResponse.objects.create(
            source="survey", external_id="r2", responded_at=now, score=3, scale="csat", comment="the invoice"
        ),
        sub_theme=sub_theme,
        origin="model",
        probability=0.4,
        model=shared["text_model"],
    )
    world = {"users": users}
    for variant, (name, leader) in {"own": ("Billing", "leader"), "other": ("Logistics", "other_leader")}.items():
        function = Function.objects.create(name=name, slug=name.lower(), leader=users[leader])
        Membership.objects.create(person=users[leader], function=function)
        metric = Metric.objects.create(
            name=f"{name} CSAT",
            slug=f"{name.lower()}-csat",
            calculator="csat",
            kind="outcome",
            granularity="day",
            target=80,
            amber_threshold=78,
            red_threshold=72,
            owning_function=function,
        )
        value = MetricValue.objects.create(metric=metric, period_start=today, segment="", value=70, computed_at=now)
        rule = AlertRule.objects.create(metric=metric, name=f"{name} low", kind="threshold")
        workflow = Workflow.objects.create(name=f"{name} flow", function=function)
        issue = Issue.objects.create(
            title=f"{name} problem", function=function, created_by=users["cx"], state="investigating"
        )
        world[variant] = {
            **shared,
            "function": function,
            "accountability": Accountability.objects.create(function=function, role="A", subject=f"{name} work"),
            "membership": Membership.objects.get(person=users[leader], function=function),
            "metric": metric,
            "metric_value": value,
            "alert_rule": rule,
            "alert": Alert.objects.create(
                rule=rule, metric=metric, severity="warning", opened_period=today, fired_at=now
            ),
            "workflow": workflow,
            "decision_point": DecisionPoint.objects.create(workflow=workflow, rule=f"{name} cut-off"),
            "issue": issue,
            "action_item": ActionItem.objects.create(
                issue=issue, title=f"{name} fix", function=function, due_date=today + timedelta(days=30)
            ),
        }
    Membership.objects.create(person=users["stakeholder"], function=world["own"]["function"])
    # The matrix's "membership" is a configuration row that is not the leader's own.
    world["own"]["membership"] = world["other"]["membership"]
    world["clients"] = {role: _client(users[role]) for role in ("admin", "cx", "leader", "stakeholder")}
    return world


def _client(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- the cases -----------------------------------------------------------------------------------


def _url(endpoint: Endpoint, objects: dict) -> str:
    row = ENDPOINTS[endpoint.name]
    kwargs = {}
    for name in endpoint.kwargs:
        target = objects[row.obj]
        if isinstance(target, str):
            kwargs[name] = target
        elif name == "slug":
            kwargs[name] = target.slug
        else:
            kwargs[name] = target.pk
    return reverse(endpoint.name, kwargs=kwargs)


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    logins = (reverse("login"), reverse("admin:login"))
    return response.status_code == 302 and response["Location"].startswith(logins)


def _call(client: Client, method: str, url: str, data):
    if url.startswith("/api/"):
        body = json.dumps(data if data is not None else {})
        if method == "GET":
            return client.get(url)
        return client.generic(method, url, body, content_type="application/json")
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post(url, data or {})
    return client.generic(method, url)


@pytest.mark.parametrize(("endpoint", "variant", "method", "role", "verdict"), list(cases()))
def test_permission_matrix(db, world, endpoint, variant, method, role, verdict):
    objects = world["own" if variant == "own" else "other"]
    row = ENDPOINTS[endpoint.name]
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["clients"][role]
    build = row.data.get(method)
    data = build(objects) if build else None
    url = _url(endpoint, objects)
    response = _call(client, method, url, data)
    where = f"{method} {url} as {role} ({variant}): {response.status_code}"
    # 503 is an answer (the health check's "not ready"), not a crash.
    assert response.status_code < 500 or response.status_code == 503, f"server error on {where}"
    if row.methods.get(method) == PUBLIC:
        assert response.status_code not in (401, 403, 404, 405), f"public endpoint refused: {where}"
        return
    refused = _refused(response)
    if verdict == "allow":
        assert not refused, f"refused, but the table allows it: {where}"
    else:
        assert refused, f"allowed, but the table refuses it: {where}"


def test_every_endpoint_has_a_row():
    names = {e.name for e in ALL_ENDPOINTS}
    missing = sorted(names - ENDPOINTS.keys())
    assert not missing, f"Endpoints with no row in the permission matrix (add them to ENDPOINTS): {missing}"
    stale = sorted(ENDPOINTS.keys() - names)
    assert not stale, f"Rows for endpoints that no longer exist: {stale}"


def test_every_row_names_known_capabilities():
    used = {c for row in ENDPOINTS.values() for c in row.methods.values()}
    assert used - {PUBLIC} <= CAPABILITIES.keys(), sorted(used - {PUBLIC} - CAPABILITIES.keys())
    assert all(method in METHODS for row in ENDPOINTS.values() for method in row.methods)


def test_every_capability_is_in_the_table_with_known_roles():
    for name, rule in CAPABILITIES.items():
        assert re.fullmatch(r"[a-z_]+", name)
        assert rule.roles <= set(ROLES), name
        assert rule.allows, f"{name} says nothing about what it allows"


# --- holes that need a particular body or state (closed by the writepath stream) -----------------


def _api(world, role: str) -> Client:
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = world["clients"][role]
    return client


def test_leader_cannot_add_action_item_in_own_function_to_other_functions_issue_by_api(db, world):
    from rootcause.models import ActionItem

    body = {
        "issue": world["other"]["issue"].pk,
        "title": "Planted item",
        "function": world["own"]["function"].pk,
        "due_date": "2027-01-15",
    }
    response = _api(world, "leader").post("/api/action-items/", body, content_type="application/json")
    assert response.status_code == 403
    assert not ActionItem.objects.filter(title="Planted item").exists()


def test_cx_team_cannot_delete_category_with_approved_canvas_by_api(db, world):
    from outcomes.models import Canvas

    category = world["own"]["category"]
    response = _api(world, "cx").delete(f"/api/customer-categories/{category.slug}/")
    assert response.status_code == 409
    assert Canvas.objects.filter(category=category, state="approved").exists()
