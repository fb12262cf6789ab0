from django.contrib import admin

from alerts.models import Alert, AlertEvent, AlertRule, Delivery, Evaluation
from cxgov.lib.admin import ReadOnlyAdminMixin


@admin.register(AlertRule)
class AlertRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "metric", "kind", "severity", "segment", "active", "muted_until"]
    list_filter = ["kind", "severity", "active"]
    search_fields = ["name", "metric__name"]
    filter_horizontal = ["subscribers"]


class AlertEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AlertEvent
    extra = 0
    readonly_fields = ["kind", "at", "period", "by", "note", "values"]
    can_delete = False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["rule", "metric", "severity", "state", "opened_period", "resolved_period", "fired_at"]
    list_filter = ["state", "severity"]
    readonly_fields = ["rule", "metric", "opened_period", "resolved_period", "fired_at", "resolved_at", "values"]
    inlines = [AlertEventInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["alert", "recipient", "kind", "created_at", "email", "read_at"]
    list_filter = ["kind"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["metric", "status", "requested_at", "finished_at", "attempts", "rules", "error"]
    list_filter = ["status"]
