from django import forms

from alerts import charts
from alerts.models import AlertRule
from alerts.services import RULE_FIELDS
from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import User


class AlertRuleForm(BoundedFormMixin, forms.ModelForm):
    """An alert rule on one metric; fields that do not apply to the chosen kind are ignored."""

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

    def __init__(self, *args, segments: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscribers"].queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        if self.instance.pk:
            self.initial.setdefault("subscribers", list(self.instance.subscribers.all()))
        self.initial.setdefault("chart_tests", list(self.instance.chart_tests or []))
        self.fields["segment"] = forms.ChoiceField(
            choices=[("", "Everyone")] + [(s, s) for s in segments], required=False
        )
        for name in ("chart_periods", "provisional_periods"):
            self.fields[name].required = False  # blank: the documented default
        for name in ("level", "comparison", "change_mode", "chart"):
            self.fields[name].required = False
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]


class MuteForm(BoundedFormMixin, forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Mute the rule until")
