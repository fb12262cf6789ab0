from django import forms

from cxgov.models import Function
from metrics.models import Metric


class MetricForm(forms.ModelForm):
    """An administrator's definition of a metric."""

    class Meta:
        model = Metric
        fields = [
            "name",
            "slug",
            "description",
            "unit",
            "kind",
            "timing",
            "direction",
            "calculator",
            "source",
            "denominator_source",
            "unit_cost",
            "filter_segment",
            "filter_channel",
            "filter_product",
            "filter_touchpoint",
            "segment_by",
            "granularity",
            "target",
            "amber_threshold",
            "red_threshold",
            "owning_function",
            "north_star",
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["owning_function"].queryset = Function.objects.order_by("name")
