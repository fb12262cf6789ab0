from django import forms

from cxgov.lib import heavy, permissions
from cxgov.lib.forms import BoundedFormMixin
from cxgov.models import User
from metrics.models import Metric
from rootcause.models import (
    ActionItem,
    ActionStatus,
    BulkAction,
    DecisionPoint,
    Issue,
    KeyDriver,
    SubTheme,
    TagOrigin,
    Workflow,
)
from rootcause.selectors import SENTIMENTS
from rootcause.services import ACTION_FIELDS, ISSUE_FIELDS


def source_choices() -> list[tuple[str, str]]:
    """Every source comments came from, for a filter's drop-down: a DISTINCT over every response,
    so cached per version of the feedback data (one query to read that version)."""
    from metrics.models import SurveyResponse

    def sources():
        return list(SurveyResponse.objects.order_by("source").values_list("source", flat=True).distinct())

    return [("", "All sources"), *((s, s) for s in heavy.cached("sources", {}, sources, light=True))]


class ParetoForm(forms.Form):
    # The fields that choose comments (``selectors.responses_for``); an issue opened from a Pareto
    # row carries them into its evidence.
    FILTERS = ("start", "end", "source", "segment", "product", "dissatisfied_only")

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    segment = forms.CharField(required=False, max_length=100)
    product = forms.CharField(required=False, max_length=100)
    dissatisfied_only = forms.BooleanField(required=False, label="Dissatisfied only (NPS 0-6, CSAT 1-2)")
    weight_by_revenue = forms.BooleanField(required=False, label="Weight by customers' monthly revenue")
    cutoff = forms.FloatField(required=False, min_value=1, max_value=100, initial=80, label="Vital-few cut-off (%)")
    sentiment = forms.ChoiceField(
        required=False,
        choices=list(SENTIMENTS.items()),
        label="What the comments say",
        help_text="Which comments a problem counts, by what they say about it.",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, praise: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = source_choices()  # read once, whatever renders or validates it
        if praise:  # "what works" counts the positive comments of praise sub-themes only
            del self.fields["sentiment"]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start is after the end.")
        return data

    def comment_filters(self) -> dict:
        """The filters that are set, as ``selectors.responses_for`` takes them (valid forms only)."""
        return {name: self.cleaned_data[name] for name in self.FILTERS if self.cleaned_data.get(name)}


class LinesField(forms.CharField):
    """A list of names written one per line (blank lines and repeats dropped)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        lines = (line.strip() for line in (super().to_python(value) or "").splitlines())
        return list(dict.fromkeys(line for line in lines if line))


def _select(**attrs) -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm", **attrs})


class CommentFilterForm(forms.Form):
    """The comments page's filters (the same as the comments API's)."""

    source = forms.ChoiceField(required=False, widget=_select())
    segment = forms.ChoiceField(required=False, widget=_select())
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=200, label="Text contains")
    sub_theme = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, widget=_select(), label="Sub-theme"
    )
    origin = forms.ChoiceField(
        required=False, choices=[("", "Any origin"), *TagOrigin.choices], widget=_select(), label="Tagged by"
    )
    untagged = forms.BooleanField(required=False, label="Untagged only")

    def __init__(self, *args, themes: list[SubTheme], **kwargs):
        from metrics.models import SurveyResponse

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = source_choices()
        segments = SurveyResponse.objects.exclude(segment="").order_by("segment").values_list("segment", flat=True)
        self.fields["segment"].choices = [("", "All segments"), *((s, s) for s in segments.distinct())]
        self.fields["sub_theme"].choices = [("", "Any sub-theme"), *((t.pk, str(t)) for t in themes)]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start is after the end.")
        return data

    def comment_filters(self) -> dict:
        """The filters that are set, as ``selectors.comments_matching`` takes them (valid forms only)."""
        return {name: value for name, value in self.cleaned_data.items() if value}


class BulkTagForm(forms.Form):
    action = forms.ChoiceField(choices=BulkAction.choices, widget=_select())
    sub_theme = forms.TypedChoiceField(coerce=int, widget=_select(), label="Sub-theme")

    def __init__(self, *args, themes: list[SubTheme], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sub_theme"].choices = [(t.pk, str(t)) for t in themes]


class KeyDriverForm(BoundedFormMixin, forms.ModelForm):
    sources = LinesField(
        required=False,
        help_text="One source per line (e.g. clothing-reviews): its sub-themes tag only those sources' comments. "
        "Empty: every source.",
    )
    segments = LinesField(required=False, help_text="Optionally, one customer segment per line. Empty: every segment.")

    class Meta:
        model = KeyDriver
        fields = ["name", "slug", "description", "sources", "segments"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"slug": "Leave empty to derive it from the name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class SubThemeForm(BoundedFormMixin, forms.ModelForm):
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


class WorkflowForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["name", "function", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = functions


class DecisionPointForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = DecisionPoint
        fields = ["workflow", "rule", "kind", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = Workflow.objects.filter(function__in=functions).select_related("function")


class IssueForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = Issue
        fields = list(ISSUE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "root_cause": forms.Textarea(attrs={"rows": 2}),
            **{
                name: forms.DateInput(attrs={"type": "date"})
                for name in ("period", "baseline_start", "baseline_end", "check_start", "check_end")
            },
        }
        labels = {"function": "Owning function", "owner": "Owner (person)", "cx_owner": "CX owner"}
        help_texts = {
            "decision_point": "Where the 5 whys end; its workflow's function owns the issue when none is chosen.",
            "target_quarter": "e.g. 2026-Q4",
        }

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = functions
        people = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        self.fields["owner"].queryset = people
        self.fields["cx_owner"].queryset = people.filter(pk__in=permissions.holders("be_cx_owner"))
        self.fields["sub_theme"].queryset = SubTheme.objects.select_related("driver")
        self.fields["decision_point"].queryset = DecisionPoint.objects.select_related("workflow__function")
        self.fields["metric"].queryset = Metric.objects.order_by("name")


class WhyForm(BoundedFormMixin, forms.Form):
    why = forms.CharField(max_length=300, required=False, label="Why?")
    because = forms.CharField(max_length=300, required=False, label="Because")
    evidence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}), label="Evidence")


WhyFormSet = forms.formset_factory(WhyForm, extra=2, max_num=12, absolute_max=12, validate_max=True)


class ActionItemForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = list(ACTION_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, functions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = functions
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("first_name", "username")


class ActionUpdateForm(BoundedFormMixin, forms.Form):
    status = forms.ChoiceField(choices=[("", "Keep status"), *ActionStatus.choices], required=False)
    blocked_reason = forms.CharField(max_length=300, required=False, label="Blocked because")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Progress note")


def record_update(*, user, item, data) -> tuple[ActionUpdateForm, str]:
    """Check and record an inline action-item update (status, blocked reason, note) from a post.
    Returns the form and the error to show on the row ("" when the update was recorded)."""
    from django.core.exceptions import ValidationError

    from rootcause import services

    form = ActionUpdateForm(data)
    if not form.is_valid():
        return form, " ".join(e for errors in form.errors.values() for e in errors)
    try:
        services.action_item_update(user=user, item=item, **form.cleaned_data)
    except ValidationError as exc:
        return form, " ".join(exc.messages)
    return form, ""


class DiscoveryForm(forms.Form):
    """Which untagged comments theme discovery clusters, and into how many candidates."""

    source = forms.ChoiceField(required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    clusters = forms.IntegerField(min_value=2, max_value=30, initial=8, label="Candidates")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = source_choices()

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start is after the end.")
        return data


class AdoptForm(forms.Form):
    """A candidate theme becoming a sub-theme: its key driver, name, keywords and the examples kept."""

    driver = forms.ModelChoiceField(queryset=None, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    name = forms.CharField(max_length=120)
    keywords = LinesField(help_text="One per line; new comments containing any of them get the sub-theme.")
    keep = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, drivers, examples: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["driver"].queryset = drivers
        self.fields["keep"].choices = [(pk, pk) for pk in examples]
