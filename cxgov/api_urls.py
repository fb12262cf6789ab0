from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.routers import DefaultRouter

from alerts import api as alerts_api
from audit import api as audit_api
from cxgov import api
from digests import api as digests_api
from metrics import api as metrics_api
from outcomes import api as outcomes_api
from ownership import api as ownership_api
from rootcause import api as rootcause_api


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def not_found(request, path=""):
    """Any other address under /api/ answers as the API does (``{"detail": ...}``), not with a page."""
    raise NotFound()


router = DefaultRouter()
router.register("functions", api.FunctionViewSet)
router.register("memberships", api.MembershipViewSet)
router.register("accountabilities", api.AccountabilityViewSet)
router.register("metrics", metrics_api.MetricViewSet)
router.register("metric-values", metrics_api.MetricValueViewSet)
router.register("customer-categories", outcomes_api.CustomerCategoryViewSet)
router.register("canvases", outcomes_api.CanvasViewSet)
router.register("key-drivers", rootcause_api.KeyDriverViewSet)
router.register("workflows", rootcause_api.WorkflowViewSet)
router.register("comments", rootcause_api.CommentViewSet, basename="comment")
router.register("comment-tags", rootcause_api.CommentTagViewSet)
router.register("tag-jobs", rootcause_api.BulkTagJobViewSet)
router.register("theme-discovery", rootcause_api.DiscoveryRunViewSet)
router.register("text-models", rootcause_api.TextModelViewSet)
router.register("review-queue", rootcause_api.ReviewQueueViewSet, basename="review-queue")
router.register("issues", rootcause_api.IssueViewSet)
router.register("action-items", rootcause_api.ActionItemViewSet)
router.register("digest-deliveries", digests_api.DeliveryViewSet)
router.register("alert-rules", alerts_api.AlertRuleViewSet)
router.register("alerts", alerts_api.AlertViewSet)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("digest-preferences/me/", digests_api.PreferenceView.as_view(), name="digest-preferences"),
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("ingest/responses/", metrics_api.ResponsesIngest.as_view(), name="ingest-responses"),
    path("ingest/observations/", metrics_api.ObservationsIngest.as_view(), name="ingest-observations"),
    path("ingest/customers/", metrics_api.CustomersIngest.as_view(), name="ingest-customers"),
    path("pareto/", rootcause_api.ParetoView.as_view(), name="pareto"),
    path("north-star/", outcomes_api.NorthStarView.as_view(), name="north-star"),
    path("kpi-audit/", metrics_api.KpiAuditView.as_view(), name="kpi-audit"),
    path("business-impact/", metrics_api.BusinessImpactView.as_view(), name="business-impact"),
    path("driver-analysis/", metrics_api.DriverAnalysisView.as_view(), name="driver-analysis"),
    path("ownership/map/", ownership_api.OwnershipMapView.as_view(), name="ownership-map"),
    path("ownership/scorecard/", ownership_api.ScorecardView.as_view(), name="ownership-scorecard"),
    path("ledger/", ownership_api.LedgerView.as_view(), name="ledger"),
    path("ledger/cases/", ownership_api.BusinessCaseList.as_view(), name="ledger-cases"),
    path("audit/", audit_api.AuditView.as_view(), name="audit"),
    path("", include(router.urls)),
    # Only addresses ending in a slash: one without (``/api/functions``) is still redirected to its
    # slashed form by APPEND_SLASH.
    re_path(r"^(?P<path>.*/)$", not_found, name="not-found"),
]
