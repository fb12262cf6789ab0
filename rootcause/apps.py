from django.apps import AppConfig


class RootcauseConfig(AppConfig):
    name = "rootcause"
    verbose_name = "Root cause"

    def ready(self):
        from metrics.services import responses_changed

        responses_changed.connect(_tag_new_comments, dispatch_uid="rootcause-tag-new-comments")


def _tag_new_comments(sender, sources, first, last, **kwargs):
    from django.db import transaction

    from rootcause.tasks import tag_comments

    transaction.on_commit(
        lambda: tag_comments.delay(
            sorted(sources), first.isoformat() if first else None, last.isoformat() if last else None
        )
    )
