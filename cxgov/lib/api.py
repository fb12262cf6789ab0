"""Shared pieces of the API's views."""

from __future__ import annotations


class ReadBackMixin:
    """A write answers with the object as a read shows it.

    List and detail reads annotate counts and flags in their query (a function's member count, an
    issue's overdue items); the object a service returns has none of them, so the answer to a
    create or update would lack fields the schema declares. Reading the object back through the
    view's queryset keeps write answers and read answers the same shape."""

    def _read_back(self, serializer) -> None:
        saved = self.get_queryset().filter(pk=serializer.instance.pk).first()
        if saved is not None:
            serializer.instance = saved

    def perform_create(self, serializer):
        super().perform_create(serializer)
        self._read_back(serializer)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        self._read_back(serializer)
