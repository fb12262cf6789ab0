"""The API's one exception handler: services raise Django's exceptions, the API answers in JSON.

Services validate and refuse with ``django.core.exceptions.ValidationError`` and
``PermissionDenied``; the database guards with ``ProtectedError`` and ``IntegrityError``. No view
or serializer converts these by hand (HackSoft Styleguide-Example, ``api/exception_handlers.py``):

- ``ValidationError`` -> 400 with DRF's field errors (``{"field": ["msg"]}``; a message not tied
  to a field under ``non_field_errors``);
- ``PermissionDenied`` -> 403 ``{"detail": msg}`` (DRF's own handler);
- ``ProtectedError`` / ``IntegrityError`` -> 409 ``{"detail": msg}``: the change clashes with data
  that exists. Services check first and explain; this is the last guard (e.g. a race).
- ``AnalysisUnavailable`` (cxgov/lib/heavy.py: every slot busy, or past the statement timeout) ->
  503 ``{"detail": msg}`` with ``Retry-After``.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cxgov.lib.heavy import AnalysisUnavailable

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change clashes with data that already exists; nothing was changed."
    default_code = "conflict"


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This analysis cannot be answered right now; try again shortly."
    default_code = "unavailable"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, AnalysisUnavailable):
        response = drf_exception_handler(Unavailable(str(exc)), context)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict(str(exc.args[0]))  # services refuse with a reason; Django names the links
    elif isinstance(exc, IntegrityError):
        # The constraint's name means nothing to a caller; keep it in the log.
        logger.warning("API write refused by the database: %s", exc)
        exc = Conflict()
    return drf_exception_handler(exc, context)  # it also rolls back the request's transaction
