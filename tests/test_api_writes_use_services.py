"""Every API write goes through a service: no viewset keeps DRF's default save or delete."""

from rest_framework import mixins, serializers

from cxgov.api_urls import router


def _writable_viewsets():
    return [(prefix, viewset) for prefix, viewset, _ in router.registry]


def test_every_destroy_calls_a_delete_service():
    for prefix, viewset in _writable_viewsets():
        if issubclass(viewset, mixins.DestroyModelMixin) and "delete" in viewset.http_method_names:
            assert viewset.perform_destroy is not mixins.DestroyModelMixin.perform_destroy, prefix


def test_every_create_and_update_saves_through_a_service():
    for prefix, viewset in _writable_viewsets():
        if not issubclass(viewset, mixins.CreateModelMixin | mixins.UpdateModelMixin):
            continue
        assert viewset.perform_create is mixins.CreateModelMixin.perform_create, prefix  # no logic there
        if issubclass(viewset, mixins.UpdateModelMixin):  # some create without updating (comment tags)
            assert viewset.perform_update is mixins.UpdateModelMixin.perform_update, prefix
        # ...because the serializer's save calls the app's service instead of writing the model itself
        assert viewset.serializer_class.save is not serializers.BaseSerializer.save, prefix
