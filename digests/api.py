from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.lib import permissions
from digests import selectors, services
from digests.forms import SCHEDULE_FIELDS
from digests.models import DigestDelivery, DigestPreference
from digests.serializers import DeliverySerializer, PreferenceSerializer


class PreferenceView(APIView):
    """Your own digest schedule (your role's default until you save one)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: PreferenceSerializer})
    def get(self, request):
        preference = DigestPreference.objects.filter(user=request.user).first()
        if preference is None:
            plan = selectors.plans([request.user])[request.user.pk]
            preference = DigestPreference(user=request.user, **{name: getattr(plan, name) for name in SCHEDULE_FIELDS})
        return Response(PreferenceSerializer(preference).data)

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer})
    def put(self, request):
        body = PreferenceSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        saved = services.preference_save(user=request.user, fields=body.validated_data)
        return Response(PreferenceSerializer(saved).data | {"own": True})

    patch = put


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Digest deliveries: your own; administrators see everyone's."""

    queryset = (
        DigestDelivery.objects.select_related("user", "email")
        .defer("email__body", "email__html")
        .order_by("-claimed_at", "-pk")
    )
    serializer_class = DeliverySerializer
    filterset_fields = ["status", "frequency", "user"]

    def get_queryset(self):
        qs = super().get_queryset()
        return qs if permissions.can_configure_organisation(self.request.user) else qs.filter(user=self.request.user)
