from django import forms

from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import Function
from metrics.models import Metric
from outcomes.models import Canvas, MomentOfTruth, Need


class CanvasForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = Canvas
        fields = [
            "who",
            "expectations",
            "outcomes",
            "cost_to_serve",
            "service",
            "revenue",
            "measures",
            "accountable_functions",
        ]
        widgets = {
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in ["who", "expectations", "outcomes", "cost_to_serve", "service", "revenue"]
            },
            "measures": forms.CheckboxSelectMultiple,
            "accountable_functions": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        measures = self.fields["measures"]
        measures.queryset = Metric.objects.filter(active=True).order_by("name")
        measures.label_from_instance = lambda m: f"{m.name} ({m.get_kind_display().lower()})"
        self.fields["accountable_functions"].queryset = Function.objects.order_by("customer_facing", "name")


class NeedForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = Need
        fields = ["text", "specific", "measurable", "achievable", "relevant", "time_bound", "due_on"]
        widgets = {"due_on": forms.DateInput(attrs={"type": "date"})}


class MomentForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = MomentOfTruth
        fields = ["stage", "what_happens", "functions"]
        widgets = {"what_happens": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["functions"].queryset = Function.objects.order_by("customer_facing", "name")


NeedFormSet = forms.modelformset_factory(Need, form=NeedForm, extra=2, can_delete=True)
MomentFormSet = forms.modelformset_factory(MomentOfTruth, form=MomentForm, extra=2, can_delete=True)
