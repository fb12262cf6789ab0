from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from cxgov.lib import outbox
from cxgov.lib.admin import ReadOnlyAdminMixin
from cxgov.models import Accountability, Email, Function, Heartbeat, Membership, User


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["function"]


@admin.register(User)
class PersonAdmin(ReadOnlyAdminMixin, UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "role", "is_active"]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = UserAdmin.fieldsets + (("cxgov", {"fields": ("role", "title")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("cxgov", {"fields": ("role", "email", "first_name", "last_name")}),)
    inlines = [MembershipInline]


@admin.register(Function)
class FunctionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "customer_facing", "leader", "parent"]
    list_filter = ["customer_facing"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["leader", "parent"]
    autocomplete_fields = ["parent"]


@admin.register(Accountability)
class AccountabilityAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["subject", "role", "function"]
    list_filter = ["role", "function"]
    search_fields = ["subject", "note"]
    list_select_related = ["function"]


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "seen_at", "hostname"]


@admin.register(Email)
class EmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: what waits, what was sent, what failed and why; failed ones can be sent again
    (through the outbox's own ``retry_failed``, as it has no page of its own)."""

    list_display = ["subject", "kind", "status", "attempts", "created_at", "next_attempt_at", "sent_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "to", "key"]
    actions = ["send_again"]

    @admin.action(description="Send the selected failed emails again")
    def send_again(self, request, queryset):
        count = outbox.retry_failed(email_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} email(s) will be sent again.")
