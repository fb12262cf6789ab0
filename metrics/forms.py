from zoneinfo import available_timezones

from django import forms
from django.conf import settings

from cxgov.lib import bounds
from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import Function
from metrics import calculations, dates, ingestion, schedules
from metrics import drivers as kda
from metrics.models import DataKind, Metric


class MetricForm(BoundedFormMixin, forms.ModelForm):
    """An administrator's definition of a metric."""

    class Meta:
        model = Metric
        fields = Metric.DEFINITION_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["owning_function"].queryset = Function.objects.order_by("name")


class ImportUploadForm(BoundedFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=DataKind.choices, label="What the file holds")
    source = forms.SlugField(
        required=False,
        max_length=64,
        help_text="The survey or series this file belongs to (e.g. clothing-reviews). Its column mapping is "
        "saved under this name and reused for its next file. Not needed for customers.",
    )
    file = forms.FileField(
        help_text="CSV saved as UTF-8 (in Excel: “CSV UTF-8”; any of , ; tab | between columns) or XLSX; the "
        "first row names the columns."
    )


class ImportMappingForm(BoundedFormMixin, forms.Form):
    """Which column feeds each field (built from the file's header), constants and date options."""

    def __init__(
        self, *args, kind: str, columns: list[str], mapping: ingestion.Mapping, drivers: list[str] = (), **kwargs
    ):
        super().__init__(*args, **kwargs)
        spec = ingestion.FIELDS[kind]
        choices = [("", "— not in the file —")] + [(c, c) for c in columns]
        for name in spec["required"] + spec["optional"]:
            self.fields[f"col_{name}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=ingestion.LABELS[name],
                initial=mapping.columns.get(name, ""),
            )
        for name in spec["constants"]:
            self.fields[f"const_{name}"] = forms.CharField(
                required=False,
                max_length=100,
                label=f"{ingestion.LABELS[name]}: value for every row",
                initial=mapping.constants.get(name, ""),
                help_text="Used when no column is chosen above" + (" (nps, csat or ces)." if name == "scale" else "."),
            )
        for name in ingestion.DATE_FIELDS[kind]:
            self.fields[f"fmt_{name}"] = forms.ChoiceField(
                choices=[("", "Detect from the values")] + list(dates.FORMATS.items()),
                required=False,
                label=f"{ingestion.LABELS[name]}: date format",
                initial=mapping.date_formats.get(name, ""),
                help_text="Detected from the column's values (see the preview); choose one when they read both ways.",
            )
        if kind != "customers":
            self.fields["time_zone"] = forms.ChoiceField(
                choices=[("", f"The site's ({settings.TIME_ZONE})")] + [(z, z) for z in sorted(available_timezones())],
                required=False,
                initial=mapping.time_zone,
                label="Time zone of this source",
                help_text="Times written without a zone (2/24/2015 11:15) are read in this zone.",
            )
        self.fields["duplicates"] = forms.ChoiceField(
            choices=list(ingestion.DUPLICATE_CHOICES.items()),
            initial=mapping.duplicates,
            required=False,
            widget=forms.RadioSelect,
            label="Rows that repeat an id with other values",
            help_text="Exact copies of a row are always imported once.",
        )
        self.fields["filter_column"] = forms.ChoiceField(
            choices=[("", "— import every row —")] + [(c, c) for c in columns],
            required=False,
            initial=mapping.filter_column,
            label="Import only rows whose column…",
        )
        self.fields["filter_values"] = forms.CharField(
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            initial="\n".join(mapping.filter_values),
            label="…is one of these values",
            help_text="One per line, e.g. negative. Case and surrounding spaces are ignored.",
        )
        if kind == "responses":
            self.fields["label_column"] = forms.ChoiceField(
                choices=[("", "— none —")] + [(c, c) for c in columns],
                required=False,
                initial=mapping.label_column,
                label="Labels that become sub-themes",
                help_text="A column of your own categories (e.g. a complaint reason): each label becomes the "
                "sub-theme of its comment; labels not yet in the taxonomy are created.",
            )
            self.fields["label_driver"] = forms.CharField(
                required=False,
                max_length=120,
                initial=mapping.label_driver,
                label="…under the key driver",
                help_text="An existing key driver"
                + (f" ({', '.join(sorted(drivers)[:12])})" if drivers else "")
                + " or the name of a new one.",
            )
            self.fields["drivers"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial="\n".join(f"{k}={v}" for k, v in mapping.drivers.items()),
                label="Driver ratings (1-5)",
                help_text="One per line: driver name=column, e.g. billing clarity=Q4.",
            )
            self.fields["other_fields"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial="\n".join(f"{k}={v}" for k, v in mapping.fields.items()),
                label="Other fields (numbers or categories)",
                help_text="One per line: field name=column, e.g. spend=Spend or sentiment=Sentiment. Numbers can be "
                "key-driver outcomes and drivers; any field can define a proportion (“sentiment is negative”).",
            )
            self.fields["dates_from"] = forms.DateField(
                required=False,
                initial=mapping.dates_from or None,
                label="No date column: first day",
                help_text="Rows are spread evenly by their order from this day to the last day.",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields["dates_to"] = forms.DateField(
                required=False,
                initial=mapping.dates_to or None,
                label="No date column: last day",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        if kind == "customers":
            self.fields["snapshot"] = forms.DateField(
                required=False,
                initial=mapping.snapshot or None,
                label="Snapshot date",
                help_text="Tenure counts back from this day; churned customers left in its month.",
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        self.columns = columns

    def clean_drivers(self):
        drivers = {}
        for number, line in enumerate(self.cleaned_data["drivers"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, column = line.partition("=")
            if not sep or not name.strip() or column.strip() not in self.columns:
                raise forms.ValidationError(f"Line {number}: write “driver name=column” with a column of the file.")
            problem = bounds.driver_ratings_problem({name.strip(): 1})
            if problem:
                raise forms.ValidationError(f"Line {number}: {problem}")
            drivers[name.strip()] = column.strip()
        if len(drivers) > bounds.MAX_DRIVERS:
            raise forms.ValidationError(f"{len(drivers)} driver ratings; at most {bounds.MAX_DRIVERS}.")
        return drivers

    def clean_other_fields(self):
        found = {}
        for number, line in enumerate(self.cleaned_data["other_fields"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, column = line.partition("=")
            if not sep or not name.strip() or column.strip() not in self.columns:
                raise forms.ValidationError(f"Line {number}: write “field name=column” with a column of the file.")
            problem = bounds.attributes_problem({name.strip(): 1})
            if problem:
                raise forms.ValidationError(f"Line {number}: {problem}")
            found[name.strip()] = column.strip()
        if len(found) > bounds.MAX_ATTRIBUTES:
            raise forms.ValidationError(f"{len(found)} fields; at most {bounds.MAX_ATTRIBUTES}.")
        return found

    def clean(self):
        data = super().clean()
        values = [v.strip() for v in (data.get("filter_values") or "").splitlines() if v.strip()]
        if data.get("filter_column") and not values:
            self.add_error("filter_values", "Give the values to keep (one per line).")
        if values and not data.get("filter_column"):
            self.add_error("filter_column", "Choose the column the values are in.")
        data["filter_values"] = values
        if data.get("label_column") and not (data.get("label_driver") or "").strip():
            self.add_error("label_driver", "Name the key driver the labels belong to.")
        return data

    def mapping(self) -> ingestion.Mapping:
        data = self.cleaned_data
        return ingestion.Mapping(
            columns={k[4:]: v for k, v in data.items() if k.startswith("col_") and v},
            constants={k[6:]: v for k, v in data.items() if k.startswith("const_") and v},
            drivers=data.get("drivers") or {},
            fields=data.get("other_fields") or {},
            dates_from=data["dates_from"].isoformat() if data.get("dates_from") else "",
            dates_to=data["dates_to"].isoformat() if data.get("dates_to") else "",
            snapshot=data["snapshot"].isoformat() if data.get("snapshot") else "",
            date_formats={k[4:]: v for k, v in data.items() if k.startswith("fmt_") and v},
            time_zone=data.get("time_zone") or "",
            duplicates=data.get("duplicates") or ingestion.REFUSE,
            filter_column=data.get("filter_column") or "",
            filter_values=data.get("filter_values") or [],
            label_column=data.get("label_column") or "",
            label_driver=(data.get("label_driver") or "").strip() if data.get("label_column") else "",
        )


class DriverAnalysisForm(forms.Form):
    """What a key-driver analysis on any numeric data reads: the data, the outcome, the drivers and
    the method. Bound to GET: the page and the API read it, nothing is stored. The outcome and
    driver choices are the numeric fields of the chosen data (choose the data first)."""

    data = forms.ChoiceField(label="Data", help_text="Responses of a source, or observation series joined per period.")
    outcome = forms.ChoiceField(label="Outcome", help_text="The number to explain (read as continuous).")
    drivers = forms.MultipleChoiceField(
        label="Drivers", widget=forms.CheckboxSelectMultiple, help_text="What might move it (at least one)."
    )
    method = forms.ChoiceField(
        label="Method",
        choices=list(kda.METHODS.items()),
        initial=kda.LMG,
        required=False,
    )

    def __init__(self, *args, data_choices: list[tuple[str, str]], fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data"].choices = data_choices
        self.fields["outcome"].choices = [(f, f) for f in fields]
        self.fields["drivers"].choices = [(f, f) for f in fields]

    def clean(self):
        cleaned = super().clean()
        outcome, chosen = cleaned.get("outcome"), cleaned.get("drivers") or []
        if outcome and chosen:
            chosen = [d for d in chosen if d != outcome]
            if not chosen:
                self.add_error("drivers", "Choose at least one driver other than the outcome.")
            elif len(chosen) > calculations.MAX_DRIVERS:
                self.add_error("drivers", f"{len(chosen)} drivers; at most {calculations.MAX_DRIVERS} at once.")
            cleaned["drivers"] = chosen
        cleaned["method"] = cleaned.get("method") or kda.LMG
        return cleaned


class MetricScheduleForm(forms.Form):
    """When a metric is recalculated; metrics.services.metric_schedule_set checks and stores it."""

    kind = forms.ChoiceField(choices=schedules.KINDS, widget=forms.RadioSelect, label="Recalculate")
    every = forms.IntegerField(required=False, label="Every", widget=forms.NumberInput(attrs={"min": 1}))
    period = forms.ChoiceField(choices=schedules.PERIODS, required=False, label="Unit")
    cron = forms.CharField(
        required=False,
        max_length=200,
        label="Cron expression",
        help_text="Minute, hour, day of month, month, day of week: “0 6 * * 1-5” is 06:00 on weekdays.",
    )
    timezone = forms.ChoiceField(
        choices=schedules.timezone_choices,
        label="Time zone",
        help_text="The wall clock of a cron expression, and of the run times shown.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="On (recalculate on this schedule)")

    @classmethod
    def initial_for(cls, task) -> dict:
        current = schedules.from_task(task)
        initial = {"kind": schedules.INTERVAL, "every": 1, "period": "hours", "timezone": settings.TIME_ZONE}
        if current is not None:
            initial.update(kind=current.kind, timezone=current.tz)
            if current.kind == schedules.INTERVAL:
                initial.update(every=current.every, period=current.period)
            else:
                initial.update(cron=current.cron)
        initial["enabled"] = task.enabled if task is not None else True
        return initial
