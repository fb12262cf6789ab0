"""Shared pieces of the API's views."""

from __future__ import annotations


class ReadBackMixin:
    """A write answers with the object as a read shows it.

    List and detail reads annotate counts and flags in their query (a function's member count, an
    issue's overdue items); the object a service returns has none of them, so the answer to a
    create or update would lack fields the schema declares. The answer is made again from the
    object read back through the view's queryset, so write answers and read answers have the same
    shape. (The write itself is untouched: the serializer's save calls the service.)"""

    def create(self, request, *args, **kwargs):
        answer = super().create(request, *args, **kwargs)
        answer.data = self._read_back(answer.data)
        return answer

    def update(self, request, *args, **kwargs):
        answer = super().update(request, *args, **kwargs)
        answer.data = self._read_back(answer.data)
        return answer

    def _read_back(self, data):
        saved = self.get_queryset().filter(pk=data["id"]).first()
        return self.get_serializer(saved).data if saved is not None else data
