from django.apps import AppConfig


class CxgovConfig(AppConfig):
    name = "cxgov"
    verbose_name = "Organisation"

    def ready(self):
        from cxgov.lib import schema  # noqa: F401 - registers the schema's serializer extension

    @property
    def health_checks(self):
        from cxgov.lib import dispatch

        return {"dispatch": dispatch.health, "outbox": _outbox_health}


def _outbox_health() -> dict:
    """Emails waiting too long (mail or workers down) or failed for good fail the health page."""
    from cxgov.lib import outbox

    return outbox.health()
