from django import forms

from alerts import charts
from alerts.models import AlertRule, RuleKind
from alerts.services import RULE_FIELDS
from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import User

# The settings each kind of rule reads (alerts/evaluation.py); the form shows only the chosen kind's.
KIND_FIELDS = {
    RuleKind.THRESHOLD: ["level", "hysteresis"],
    RuleKind.TARGET: ["hysteresis"],
    RuleKind.CHANGE: ["comparison", "change_mode", "change_limit", "hysteresis"],
    RuleKind.CONTROL: ["chart", "chart_tests", "baseline_from", "baseline_to", "chart_periods", "provisional_periods"],
    RuleKind.MISSING: [],
}
KIND_SHORT = {
    RuleKind.THRESHOLD: "Threshold",
    RuleKind.TARGET: "Target missed",
    RuleKind.CHANGE: "Change",
    RuleKind.CONTROL: "Control chart",
    RuleKind.MISSING: "Missing data",
}
KIND_HELP = {
    RuleKind.THRESHOLD: "Fires when the metric's RAG status reaches a level (amber or red) against its thresholds.",
    RuleKind.TARGET: "Fires when the metric misses its target for the chosen number of periods in a row.",
    RuleKind.CHANGE: "Fires when the metric worsens by a set amount against the previous period or a year before.",
    RuleKind.CONTROL: "Fires on a control-chart signal (Western Electric rules): a change beyond normal variation.",
    RuleKind.MISSING: "Fires when the metric has no value for the chosen number of periods in a row (a feed stopped).",
}


class AlertRuleForm(BoundedFormMixin, forms.ModelForm):
    """An alert rule of one kind on one metric: only the settings that kind reads are fields (the
    kind itself is chosen first and carried along; the other kinds' settings keep their values)."""

    subscribers = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Notified as well as the owning function's leader.",
    )
    chart_tests = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Control-chart tests that fire",
        choices=[(n, f"{charts.rule_name(n)}: {text}") for n, text in charts.RULES.items()],
        help_text="Western Electric rules 1-4 by default; rule 1 alone is the plain 3σ test.",
    )

    class Meta:
        model = AlertRule
        fields = RULE_FIELDS
        labels = {
            "min_periods": "Periods in a row before firing",
            "clear_periods": "Clear periods in a row before resolving",
            "hysteresis": "Margin to resolve (hysteresis)",
            "change_limit": "Change that fires",
            "chart_periods": "Periods for firm control limits",
            "provisional_periods": "Periods to judge with provisional limits",
            "baseline_from": "Baseline (phase I) from",
            "baseline_to": "Baseline (phase I) to: limits are frozen from this window",
        }
        widgets = {
            "baseline_from": forms.DateInput(attrs={"type": "date"}),
            "baseline_to": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, segments: list[str], kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for other, names in KIND_FIELDS.items():
            for name in names:
                if other != kind and name not in KIND_FIELDS[kind]:
                    self.fields.pop(name, None)
        self.fields["kind"].widget = forms.HiddenInput()
        self.initial["kind"] = kind
        self.fields["subscribers"].queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        if self.instance.pk:
            self.initial.setdefault("subscribers", list(self.instance.subscribers.all()))
        self.initial.setdefault("chart_tests", list(self.instance.chart_tests or []))
        self.fields["segment"] = forms.ChoiceField(
            choices=[("", "Everyone")] + [(s, s) for s in segments], required=False
        )
        for name in ("chart_periods", "provisional_periods"):
            if name in self.fields:
                self.fields[name].required = False  # blank: the documented default
        for name in ("level", "comparison", "change_mode", "chart"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]

    def clean_kind(self):
        if self.cleaned_data.get("kind") != self.kind:  # the page was for another kind: nothing mixes
            raise forms.ValidationError("The kind changed while editing; choose it again.")
        return self.kind


class MuteForm(BoundedFormMixin, forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Mute the rule until")
