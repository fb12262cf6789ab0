"""Logging filters named in ``settings.LOGGING``."""

import logging


class ForbiddenOneLine(logging.Filter):
    """A refused request (403) is everyday business, not a crash: Django's ``django.request`` logs it
    with the whole traceback of the PermissionDenied; keep one line with the path and the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            reason = str(record.exc_info[1] or "")
            if reason:
                record.msg = f"{record.msg} (%s)"
                record.args = (*(record.args or ()), reason)
            record.exc_info = record.exc_text = None
        return True
