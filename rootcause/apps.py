from django.apps import AppConfig


class RootcauseConfig(AppConfig):
    name = "rootcause"
    verbose_name = "Root cause"

    def ready(self):
        from metrics.services import label_taxonomy, labels_imported, responses_changed

        responses_changed.connect(_tag_new_comments, dispatch_uid="rootcause-tag-new-comments")
        labels_imported.connect(_tag_imported_labels, dispatch_uid="rootcause-tag-imported-labels")
        label_taxonomy.connect(_label_taxonomy, dispatch_uid="rootcause-label-taxonomy")


def _tag_imported_labels(sender, source, driver, labels, **kwargs):
    from rootcause.services import labels_import

    return labels_import(source=source, driver=driver, labels=labels)


def _label_taxonomy(sender, **kwargs):
    from rootcause.selectors import taxonomy_names

    return taxonomy_names()


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
