from django import forms


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
