from django.contrib import admin

from cxgov.lib.admin import ReadOnlyAdminMixin
from digests.models import DigestDefault, DigestDelivery, DigestPreference


@admin.register(DigestDefault)
class DigestDefaultAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["role", "frequency", "weekday", "day_of_month", "hour", "time_zone"]


@admin.register(DigestPreference)
class DigestPreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "frequency", "weekday", "day_of_month", "hour", "time_zone"]
    raw_id_fields = ["user"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "period", "status", "claimed_at", "email"]
    list_filter = ["status", "frequency"]
    raw_id_fields = ["user"]
