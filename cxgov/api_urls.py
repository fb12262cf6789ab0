from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from cxgov import api

router = DefaultRouter()
router.register("functions", api.FunctionViewSet)
router.register("memberships", api.MembershipViewSet)
router.register("accountabilities", api.AccountabilityViewSet)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    path("", include(router.urls)),
]
