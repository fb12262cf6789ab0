from django.apps import AppConfig


class RootcauseConfig(AppConfig):
    name = "rootcause"
    verbose_name = "Root cause"

    def ready(self):
        from metrics.services import responses_changed

        responses_changed.connect(_tag_new_comments, dispatch_uid="rootcause-tag-new-comments")


def _tag_new_comments(sender, sources, first, last, **kwargs):
    from cxgov.lib import dispatch

    dispatch.enqueue(
        "rootcause.tag_comments",
        {
            "sources": sorted(sources),
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
        },
    )
