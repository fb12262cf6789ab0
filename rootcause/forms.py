from django import forms

from rootcause.models import DecisionPoint, KeyDriver, SubTheme, Workflow


class ParetoForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.CharField(required=False, max_length=100)
    product = forms.CharField(required=False, max_length=100)
    dissatisfied_only = forms.BooleanField(required=False, label="Dissatisfied only (NPS 0-6, CSAT 1-2)")
    weight_by_revenue = forms.BooleanField(required=False, label="Weight by customers' monthly revenue")
    cutoff = forms.FloatField(required=False, min_value=1, max_value=100, initial=80, label="Vital-few cut-off (%)")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start is after the end.")
        return data


class KeyDriverForm(forms.ModelForm):
    class Meta:
        model = KeyDriver
        fields = ["name", "slug", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"slug": "Leave empty to derive it from the name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class SubThemeForm(forms.ModelForm):
    class Meta:
        model = SubTheme
        fields = ["driver", "name", "slug", "keywords", "negative_keywords", "suggested_function"]
        widgets = {
            "keywords": forms.Textarea(attrs={"rows": 5}),
            "negative_keywords": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "Leave empty to derive it from the name."

    def clean_keywords(self):
        phrases = SubTheme.phrases(self.cleaned_data["keywords"])
        if not phrases:
            raise forms.ValidationError("Give at least one word or phrase, one per line.")
        return "\n".join(phrases)

    def clean_negative_keywords(self):
        return "\n".join(SubTheme.phrases(self.cleaned_data["negative_keywords"]))


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["name", "function", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = functions


class DecisionPointForm(forms.ModelForm):
    class Meta:
        model = DecisionPoint
        fields = ["workflow", "rule", "kind", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = Workflow.objects.filter(function__in=functions).select_related("function")
