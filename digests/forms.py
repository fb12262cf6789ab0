from django import forms

from cxgov.lib.forms import BoundedFormMixin
from digests.models import DigestDefault, DigestPreference

SCHEDULE_FIELDS = ["frequency", "weekday", "day_of_month", "hour", "time_zone"]


class PreferenceForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = DigestPreference
        fields = SCHEDULE_FIELDS
        help_texts = {"time_zone": "A time zone name, e.g. Europe/London, America/New_York, Asia/Singapore."}


class DefaultForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = DigestDefault
        fields = SCHEDULE_FIELDS
