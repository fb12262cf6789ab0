from django.apps import AppConfig


class CxgovConfig(AppConfig):
    name = "cxgov"
    verbose_name = "Organisation"

    @property
    def health_checks(self):
        from cxgov.lib import dispatch

        return {"dispatch": dispatch.health, "outbox": _outbox_health}


def _outbox_health() -> dict:
    """Emails waiting too long (mail or workers down) or failed for good fail the health page."""
    from cxgov.lib import outbox

    return outbox.health()
