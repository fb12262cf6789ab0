from django.contrib import admin

from cxgov.lib.admin import ReadOnlyAdminMixin
from outcomes.models import Canvas, CustomerCategory, MomentOfTruth, Need


@admin.register(CustomerCategory)
class CustomerCategoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "data_category"]
    prepopulated_fields = {"slug": ["name"]}


class NeedInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Need
    extra = 0


class MomentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MomentOfTruth
    extra = 0


@admin.register(Canvas)
class CanvasAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["category", "version", "state", "approved_at"]
    list_filter = ["state", "category"]
    inlines = [NeedInline, MomentInline]
