from django import forms
from django.db.models import Q

from cxgov.models import Function, User
from outcomes.models import CustomerCategory
from ownership.selectors import MapFilters
from rootcause.models import Issue, IssueState, KeyDriver

STATE_CHOICES = [("open", "Open issues"), ("closed", "Closed issues"), ("", "All issues"), *IssueState.choices]
FACING_CHOICES = [("", "All functions"), ("ncf", "Non-customer-facing"), ("cf", "Customer-facing")]


class MapFilterForm(forms.Form):
    quarter = forms.ChoiceField(required=False, label="Target quarter")
    driver = forms.ModelChoiceField(KeyDriver.objects.order_by("name"), required=False, empty_label="Any key driver")
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False, initial="open")
    category = forms.ModelChoiceField(
        CustomerCategory.objects.order_by("name"),
        required=False,
        empty_label="Any customer category",
        label="Customer category",
        help_text="An issue touches a category when its metric is a measure of the category's approved canvas.",
    )
    facing = forms.ChoiceField(choices=FACING_CHOICES, required=False, label="Functions")

    def __init__(self, data=None, **kwargs):
        data = data.copy() if data is not None else None
        if data is not None and "state" not in data:
            data["state"] = "open"
        super().__init__(data, **kwargs)
        quarters = Issue.objects.exclude(target_quarter="").values_list("target_quarter", flat=True)
        self.fields["quarter"].choices = [("", "Any quarter")] + [
            (q, q) for q in sorted(set(quarters.order_by().distinct()), reverse=True)
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def filters(self) -> MapFilters:
        if not self.is_valid():
            return MapFilters()
        data = self.cleaned_data
        return MapFilters(
            quarter=data["quarter"],
            driver_id=data["driver"].pk if data["driver"] else None,
            state=data["state"],
            category_id=data["category"].pk if data["category"] else None,
        )

    def customer_facing(self) -> bool | None:
        value = self.cleaned_data.get("facing", "") if self.is_valid() else ""
        return {"ncf": False, "cf": True}.get(value)


class AssignForm(forms.Form):
    """Assign one issue (a row of triage) or many (the ticked ones) to a function and, optionally, a
    person in it. Function and person are typed with suggestions (a list of hundreds would not fit
    on every row): the function by name or slug, the person by username."""

    issue = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Issues")
    function = forms.CharField(max_length=120, label="Owning function")
    owner = forms.CharField(max_length=150, required=False, label="Person (username)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("issue") if hasattr(self.data, "getlist") else self.data.get("issue", [])
        self.fields["issue"].choices = [(v, v) for v in raw if str(v).isascii() and str(v).isdigit()]

    def clean_function(self) -> Function:
        value = self.cleaned_data["function"].strip()
        function = Function.objects.select_related("leader").filter(Q(slug=value) | Q(name__iexact=value)).first()
        if function is None:
            raise forms.ValidationError(f"There is no function called “{value}”.")
        return function

    def clean_owner(self) -> User | None:
        value = self.cleaned_data["owner"].strip()
        if not value:
            return None
        person = User.objects.filter(username=value, is_active=True).first()
        if person is None:
            raise forms.ValidationError(f"There is no active person with the username “{value}”.")
        return person
