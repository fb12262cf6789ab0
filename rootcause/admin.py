from django.contrib import admin

from rootcause.models import CommentTag, KeyDriver, SubTheme


class SubThemeInline(admin.TabularInline):
    model = SubTheme
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


@admin.register(KeyDriver)
class KeyDriverAdmin(admin.ModelAdmin):
    list_display = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SubThemeInline]


@admin.register(CommentTag)
class CommentTagAdmin(admin.ModelAdmin):
    list_display = ["response", "sub_theme", "origin", "rejected"]
    list_filter = ["origin", "rejected", "sub_theme"]
    raw_id_fields = ["response"]
