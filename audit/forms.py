from django import forms

from audit import selectors


class AuditFilterForm(forms.Form):
    """Narrow the audit trail by kind of object, by the person who made the change and by action."""

    model = forms.ChoiceField(required=False, label="Kind", choices=())
    user = forms.ModelChoiceField(required=False, label="Changed by", queryset=selectors.people(), empty_label="Anyone")
    action = forms.ChoiceField(
        required=False,
        choices=[("", "Any action"), *selectors.ACTION_CHOICES],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Every kind"), *selectors.model_choices()]
        for name, field in self.fields.items():
            field.widget.attrs.update({"class": "form-select form-select-sm", "aria-label": field.label or name})

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "model": data.get("model") or "",
            "user_id": data["user"].pk if data.get("user") else None,
            "action": data.get("action") or "",
        }
