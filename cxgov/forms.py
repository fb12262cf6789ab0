from django import forms
from django.contrib.auth.password_validation import validate_password

from cxgov.lib import permissions
from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import Function, Raci, User


class FunctionForm(BoundedFormMixin, forms.ModelForm):
    """An administrator's form for a function's structure and profile."""

    class Meta:
        model = Function
        fields = ["name", "slug", "description", "customer_facing", "parent", "leader"]
        help_texts = {"slug": "Used in addresses; leave empty to derive it from the name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["leader"].queryset = permissions.holders("lead_functions").order_by("first_name", "last_name")
        self.fields["leader"].help_text = "People with the functional leader role."
        parents = Function.objects.order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents


class FunctionProfileForm(BoundedFormMixin, forms.ModelForm):
    """What a function's own leader may change."""

    class Meta:
        model = Function
        fields = ["description"]


class AccountabilityForm(BoundedFormMixin, forms.Form):
    function = forms.ModelChoiceField(queryset=Function.objects.none())
    role = forms.ChoiceField(choices=Raci.choices, help_text="Exactly one function is Accountable per subject.")
    subject = forms.CharField(max_length=200, help_text="What the function answers for, e.g. “Invoice accuracy”.")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, function_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = function_queryset


class PersonForm(BoundedFormMixin, forms.ModelForm):
    """An administrator's form for a person: identity, role and functions."""

    functions = forms.ModelMultipleChoiceField(
        queryset=Function.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Set a new password (leave empty to keep it)."
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "title", "role", "is_active"]
        widgets = {"role": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["functions"].initial = list(self.instance.functions.values_list("pk", flat=True))
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = "The person's first password; they can change it later."

    def clean_password(self):
        password = self.cleaned_data["password"]
        if password:
            validate_password(password, self.instance)
        return password
