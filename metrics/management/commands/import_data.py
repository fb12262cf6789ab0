import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from metrics import ingestion
from metrics.models import DataKind, ImportMapping
from metrics.services import import_path


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of responses, customers or observations through the same checks as the "
        "upload page (every row checked before anything is written; idempotent on external ids). Uses the "
        "mapping saved for the source unless --mapping gives one (JSON), which is then saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=DataKind.values)
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", default="", help="Survey source or series key (not for customers).")
        parser.add_argument("--mapping", help='JSON, e.g. {"columns": {"external_id": "id", "score": "NPS"}}')

    def handle(self, *args, kind, path, source, mapping, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        if kind != "customers" and not source:
            raise CommandError("Give --source: the survey or series the rows belong to.")
        if mapping:
            try:
                chosen = ingestion.Mapping.from_json(json.loads(mapping))
            except (ValueError, TypeError) as exc:
                raise CommandError(f"--mapping is not valid JSON for a mapping: {exc}") from None
            ImportMapping.objects.update_or_create(kind=kind, source=source, defaults={"mapping": chosen.to_json()})
        else:
            saved = ImportMapping.objects.filter(kind=kind, source=source).first()
            if saved is None:
                raise CommandError(f"No mapping is saved for {kind} “{source}”: give --mapping or use the upload page.")
            chosen = ingestion.Mapping.from_json(saved.mapping)

        def checked(rows, total):
            self.stdout.write(f"  checked {rows:,} of {total:,} rows", ending="\r")

        def written(rows):
            self.stdout.write(f"  written {rows:,} rows", ending="\r")

        try:
            outcome = import_path(
                kind=kind, source=source, path=path, mapping=chosen, on_check=checked, on_write=written
            )
        except (ingestion.FileProblem, KeyError) as exc:
            raise CommandError(str(exc)) from None
        if outcome.error_count:
            for error in outcome.errors[:50]:
                self.stderr.write(f"row {error['row']}, {error['column']}: {error['message']}")
            raise CommandError(f"{outcome.error_count} problem(s) found; nothing was written.")
        self.stdout.write(self.style.SUCCESS(f"Imported {outcome.written:,} of {outcome.total:,} rows."))
        for note in outcome.notes():
            self.stdout.write(f"  {note}.")
