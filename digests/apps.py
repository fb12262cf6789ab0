from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Digests"

    @property
    def health_checks(self):
        return {"digests": _delivery_health}


def _delivery_health() -> dict:
    """Digests that could not be delivered (permanent failures, or a send whose outcome is unknown)
    in the last week: administrators see them here and on the deliveries page."""
    from digests.selectors import recent_failures

    failed = recent_failures().count()
    if failed:
        return {"ok": False, "error": f"{failed} digest(s) failed in the last 7 days; see /digests/deliveries/"}
    return {"ok": True}
