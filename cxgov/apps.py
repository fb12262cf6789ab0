from django.apps import AppConfig


class CxgovConfig(AppConfig):
    name = "cxgov"
    verbose_name = "Organisation"

    @property
    def health_checks(self):
        from cxgov.lib import dispatch

        return {"dispatch": dispatch.health}
