"""The Django admin shows the product's records; it does not change them.

Issues, canvases, themes, action items, the register, people and the rest change only through
their services (pages and API), which check permissions and state rules, write the history and
keep the accountability register. The admin stays for browsing, and for what has no page of its
own (periodic tasks, API tokens), which is not ours and keeps its usual admin.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

REFUSAL = "This record changes through cxgov's own pages and API, not in the admin."


class ReadOnlyAdminMixin:
    """For ``ModelAdmin`` and inline classes: view only, and no save even by a crafted POST (for
    instance simple-history's "revert" form, which only asks for the view permission)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        raise PermissionDenied(REFUSAL)

    def save_formset(self, request, form, formset, change):
        raise PermissionDenied(REFUSAL)

    def delete_model(self, request, obj):
        raise PermissionDenied(REFUSAL)

    def delete_queryset(self, request, queryset):
        raise PermissionDenied(REFUSAL)
