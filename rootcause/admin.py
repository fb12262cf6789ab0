from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cxgov.lib.admin import ReadOnlyAdminMixin
from rootcause.models import ActionItem, CommentTag, Issue, KeyDriver, SubTheme


class SubThemeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SubTheme
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


@admin.register(KeyDriver)
class KeyDriverAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SubThemeInline]


@admin.register(CommentTag)
class CommentTagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["response", "sub_theme", "origin", "rejected"]
    list_filter = ["origin", "rejected", "sub_theme"]
    raw_id_fields = ["response"]


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["title", "function", "state", "priority", "target_quarter", "verdict"]
    list_filter = ["state", "priority", "verdict", "function"]
    search_fields = ["title"]
    raw_id_fields = ["sub_theme", "metric", "decision_point"]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["title", "function", "owner", "due_date", "status"]
    list_filter = ["status", "function"]
    search_fields = ["title"]
    raw_id_fields = ["issue"]
