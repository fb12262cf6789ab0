from django.contrib import admin

from cxgov.lib.admin import ReadOnlyAdminMixin
from metrics.models import Customer, SurveyResponse


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "category", "started_on", "ended_on", "monthly_revenue"]
    list_filter = ["category"]
    search_fields = ["external_id"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["source", "external_id", "responded_at", "scale", "score", "segment", "product"]
    list_filter = ["source", "scale", "segment"]
    search_fields = ["external_id", "comment"]
    date_hierarchy = "responded_at"
