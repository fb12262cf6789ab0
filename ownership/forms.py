import re
from decimal import Decimal

from django import forms

from cxgov.models import Function, User
from outcomes.models import CustomerCategory
from ownership.selectors import MapFilters
from rootcause.models import Issue, IssueState, KeyDriver

MAX_ID = 2**63 - 1  # ids beyond the database's integers are refused, not looked up
QUARTER = re.compile(r"\d{4}-Q[1-4]")
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
        # .order_by(): the model's ordering would make DISTINCT return every issue to find a few quarters.
        quarters = set(
            Issue.objects.exclude(target_quarter="").order_by().values_list("target_quarter", flat=True).distinct()
        )
        asked = (data or {}).get("quarter", "")
        if QUARTER.fullmatch(asked or ""):
            quarters.add(asked)  # a real quarter with no issue yet is a valid (empty) filter
        self.fields["quarter"].choices = [("", "Any quarter")] + [(q, q) for q in sorted(quarters, reverse=True)]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def filters(self) -> MapFilters:
        """The filters asked for. A value that is not valid (a key driver or category that no longer
        exists) matches nothing rather than being dropped, which would show everything; the page
        shows the form's errors and the exports refuse such a request."""
        self.is_valid()
        data, nothing = self.cleaned_data, -1

        def pk(name):
            if name in self.errors:
                return nothing
            return data[name].pk if data.get(name) else None

        return MapFilters(
            quarter="0000-Q0" if "quarter" in self.errors else data.get("quarter", ""),
            driver_id=pk("driver"),
            state=data.get("state", "open") if "state" not in self.errors else "open",
            category_id=pk("category"),
        )

    def customer_facing(self) -> bool | None:
        value = self.cleaned_data.get("facing", "") if self.is_valid() else ""
        return {"ncf": False, "cf": True}.get(value)


class AssignForm(forms.Form):
    """Assign one issue (a row of triage) or many (the ticked ones) to a function and, optionally, a
    person in it. Function and person are typed with suggestions (a list of hundreds would not fit
    on every row): the function by name (or slug), the person as "Name (username)" or by username."""

    issue = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Issues")
    function = forms.CharField(max_length=120, label="Owning function")
    owner = forms.CharField(max_length=300, required=False, label="Person")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("issue") if hasattr(self.data, "getlist") else self.data.get("issue", [])
        self.fields["issue"].choices = [
            (v, v) for v in raw if str(v).isascii() and str(v).isdigit() and 0 < int(v) <= MAX_ID
        ]

    def clean_function(self) -> Function:
        value = self.cleaned_data["function"].strip()
        functions = Function.objects.select_related("leader")
        function = functions.filter(slug=value).first()
        if function is None:
            named = list(functions.filter(name__iexact=value)[:2])
            if len(named) > 1:
                raise forms.ValidationError(f"More than one function is called “{value}”; use its short name (slug).")
            function = named[0] if named else None
        if function is None:
            raise forms.ValidationError(f"There is no function called “{value}”.")
        return function

    def clean_owner(self) -> User | None:
        value = self.cleaned_data["owner"].strip()
        if not value:
            return None
        # Chosen from the suggestions as "Priya Shah (leader)", or typed as a username.
        username = value[value.rindex("(") + 1 : -1].strip() if value.endswith(")") and "(" in value else value
        person = User.objects.filter(username__iexact=username, is_active=True).first()
        if person is None:
            raise forms.ValidationError(f"There is no active person called “{value}”.")
        return person


class LedgerSettingsForm(forms.Form):
    currency = forms.CharField(max_length=3, help_text="Three-letter code, e.g. EUR, GBP, USD.")
    discount_rate = forms.DecimalField(
        min_value=0,
        max_value=Decimal("99.99"),
        decimal_places=2,
        help_text="Annual discount rate of lifetime value, %.",
    )


class ContactCostForm(forms.Form):
    channel = forms.CharField(
        max_length=100, required=False, help_text="As the data names it (phone, chat, email); blank: any other channel."
    )
    cost_per_contact = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2)
