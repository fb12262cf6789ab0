from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import selectors
from audit.forms import AuditFilterForm
from cxgov.lib import permissions

PER_PAGE = 50


@require_safe
def audit_log(request):
    """Who changed the configuration, when and what: newest first, for administrators."""
    if not permissions.can_read_audit(request.user):
        raise PermissionDenied("Only administrators read the audit trail.")
    form = AuditFilterForm(request.GET)
    page, entries = None, []
    if form.is_valid():
        page = Paginator(selectors.changes(**form.filters()), PER_PAGE).get_page(request.GET.get("page"))
        entries = selectors.entries(page.object_list)
    return render(request, "audit/log.html", {"form": form, "page": page, "entries": entries})
