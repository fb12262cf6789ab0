"""Reads of the audit trail: who changed the organisation's configuration, when, and what changed.

Every configuration model keeps its history with django-simple-history, one table each. The
trail reads them as one list: a UNION of the history tables (ids and dates only) is sorted and
paginated in the database; the rows of one page are then loaded with one query per model on the
page (each row with the record before it, for the diff) and one per kind of object the diffs
name. The number of queries depends on the number of models, never on the amount of history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import CharField, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.forms.models import model_to_dict

from cxgov.models import User

# The configuration whose history the trail shows, in the order the filter lists it.
AUDITED_MODELS: tuple[str, ...] = (
    "cxgov.user",
    "cxgov.function",
    "cxgov.membership",
    "cxgov.accountability",
    "metrics.metric",
    "alerts.alertrule",
    "rootcause.keydriver",
    "rootcause.subtheme",
    "rootcause.workflow",
    "rootcause.decisionpoint",
    "outcomes.customercategory",
    "digests.digestdefault",
)

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
ACTION_CODES = {name: code for code, name in ACTIONS.items()}
ACTION_CHOICES = [(name, name.capitalize()) for name in ACTION_CODES]


@dataclass
class FieldChange:
    field: str
    label: str
    old: str | None
    new: str | None

    @property
    def multiline(self) -> bool:
        return "\n" in (self.old or "") or "\n" in (self.new or "")

    @property
    def lines_removed(self) -> list[str]:
        """For text of several lines (matching rules, descriptions): the lines that went."""
        kept = set((self.new or "").splitlines())
        return [line for line in (self.old or "").splitlines() if line not in kept]

    @property
    def lines_added(self) -> list[str]:
        """The lines that came."""
        before = set((self.old or "").splitlines())
        return [line for line in (self.new or "").splitlines() if line not in before]


@dataclass
class Entry:
    """One change of one configuration object, ready to show."""

    model: str
    kind: str
    object_id: int
    object: str
    action: str
    at: datetime
    user: User | None
    reason: str
    changes: list[FieldChange] = field(default_factory=list)
    # No earlier record of the object (it predates the trail): ``changes`` are its values after this change.
    first_record: bool = False


def audited_model(key: str) -> type[Model]:
    return apps.get_model(key)


# The user model is called "user" by Django; here, as on the People page, it is a person.
KIND_NAMES = {"cxgov.user": ("Person", "People"), "rootcause.subtheme": ("Sub-theme", "Sub-themes")}


def kind_name(key: str, *, plural: bool = False) -> str:
    if key in KIND_NAMES:
        return KIND_NAMES[key][plural]
    meta = audited_model(key)._meta
    return str(meta.verbose_name_plural if plural else meta.verbose_name).capitalize()


def model_choices() -> list[tuple[str, str]]:
    """(key, label) of every audited model, for the filter."""
    return [(key, kind_name(key, plural=True)) for key in AUDITED_MODELS]


def _history_model(key: str) -> type[Model]:
    return audited_model(key).history.model


def changes(*, model: str = "", user_id: int | None = None, action: str = "") -> QuerySet:
    """Every recorded change of the configuration, newest first, as rows of ids (``model``,
    ``history_id``, ``history_date``); filter by model key, by the person who made it and by
    action (created, changed, deleted). Unknown filter values are refused with a message."""
    errors = {}
    if model and model not in AUDITED_MODELS:
        errors["model"] = f"“{model}” is not an audited model; use one of {', '.join(AUDITED_MODELS)}."
    if action and action not in ACTION_CODES:
        errors["action"] = f"“{action}” is not an action; use created, changed or deleted."
    if errors:
        raise ValidationError(errors)
    parts = []
    for key in [model] if model else AUDITED_MODELS:
        rows = _history_model(key).objects.order_by()
        if user_id is not None:
            rows = rows.filter(history_user_id=user_id)
        if action:
            rows = rows.filter(history_type=ACTION_CODES[action])
        parts.append(rows.values("history_id", "history_date").annotate(model=Value(key, output_field=CharField())))
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("-history_date", "-history_id")


def _records(key: str, history_ids: list[int]) -> dict[int, Model]:
    """The history records with these ids and, for each, the record of the same object just before it."""
    history = _history_model(key)
    earlier = history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
    previous = (
        history.objects.filter(history_id__in=history_ids)
        .annotate(previous=Subquery(earlier.order_by("-history_id").values("history_id")[:1]))
        .values("previous")
    )
    found = history.objects.filter(Q(history_id__in=history_ids) | Q(history_id__in=previous))
    return {record.history_id: record for record in found.select_related("history_user").order_by()}


def _tracked(record: Model) -> list[str]:
    return [f.name for f in record.tracked_fields if f.editable and not f.primary_key]


def _raw_changes(record: Model, previous: Model | None) -> list[tuple[str, object, object]]:
    if record.history_type == "-":
        return []
    if previous is None:
        values = model_to_dict(record, fields=_tracked(record))
        return [(name, None, value) for name, value in values.items() if value not in (None, "")]
    delta = record.diff_against(previous, included_fields=_tracked(record))
    return [(change.field, change.old, change.new) for change in delta.changes]


def _object_label(key: str, record: Model, names: dict) -> str:
    if key == "cxgov.user":
        return f"{record.first_name} {record.last_name}".strip() or record.username
    if key == "cxgov.membership":
        return f"{names.get((User, record.person_id), '?')} in {names.get((_function(), record.function_id), '?')}"
    if key == "cxgov.accountability":
        return f"{record.get_role_display()} for {record.subject}"
    if key == "digests.digestdefault":
        return f"Default for {record.get_role_display()}"
    if key == "rootcause.decisionpoint":
        return record.rule
    return record.name


def _function() -> type[Model]:
    return apps.get_model("cxgov.function")


def _display(field_object, value, names: dict) -> str | None:
    if value is None or value == "":
        return None
    if field_object.is_relation:
        name = names.get((field_object.related_model, value))
        return name if name is not None else f"#{value} (deleted)"
    if field_object.choices:
        return str(dict(field_object.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def entries(rows: Iterable[dict]) -> list[Entry]:
    """Turn a page of ``changes()`` rows into entries with object names and field diffs."""
    rows = list(rows)
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        wanted[row["model"]].append(row["history_id"])
    records = {key: _records(key, ids) for key, ids in wanted.items()}

    pending = []
    related: dict[type[Model], set] = defaultdict(set)
    for row in rows:
        key, by_id = row["model"], records[row["model"]]
        record = by_id.get(row["history_id"])
        if record is None:  # pruned between the two queries
            continue
        earlier = [r for r in by_id.values() if r.id == record.id and r.history_id < record.history_id]
        previous = max(earlier, key=lambda r: r.history_id) if earlier else None
        raw = _raw_changes(record, previous)
        for name, old, new in raw:
            field_object = record._meta.get_field(name)
            if field_object.is_relation:
                related[field_object.related_model].update(v for v in (old, new) if v is not None)
        if key == "cxgov.membership":
            related[User].add(record.person_id)
            related[_function()].add(record.function_id)
        pending.append((key, record, previous, raw))

    names = {}
    for model, ids in related.items():
        for obj in model._base_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)

    result = []
    for key, record, previous, raw in pending:
        meta = record._meta
        result.append(
            Entry(
                model=key,
                kind=kind_name(key),
                object_id=record.id,
                object=_object_label(key, record, names),
                action=ACTIONS[record.history_type],
                at=record.history_date,
                user=record.history_user,
                reason=record.history_change_reason or "",
                changes=[
                    FieldChange(
                        field=name,
                        label=str(meta.get_field(name).verbose_name).capitalize(),
                        old=_display(meta.get_field(name), old, names),
                        new=_display(meta.get_field(name), new, names),
                    )
                    for name, old, new in raw
                ],
                first_record=previous is None and record.history_type == "~",
            )
        )
    return result


def people() -> QuerySet[User]:
    """Everyone, for the "changed by" filter."""
    return User.objects.order_by("first_name", "last_name", "username")
