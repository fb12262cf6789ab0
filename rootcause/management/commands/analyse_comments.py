"""Backfill (or refresh) the text analysis: each comment's sentiment and language, then each tag's
sentiment. Safe to run again and to interrupt: only comments not analysed, or changed since, are read
again; a comment newly detected in another language loses its rule tags."""

from django.core.management.base import BaseCommand

from metrics.models import SurveyResponse
from rootcause import services


class Command(BaseCommand):
    help = "Analyse comments (sentiment, language) and tags (sentiment) that are not analysed yet."

    def handle(self, *args, **options):
        total = SurveyResponse.objects.exclude(comment="").count()

        def progress(done: int) -> None:
            self.stdout.write(f"  {done:,} / {total:,} comments read", ending="\r")
            self.stdout.flush()

        stats = services.comments_analyse(on_progress=progress)
        self.stdout.write("")
        tagged = services.comments_tag()  # rule tags leave comments now known to be in another language
        scored = services.tags_analyse()
        self.stdout.write(
            self.style.SUCCESS(
                f"{stats['analysed']:,} of {stats['comments']:,} comments analysed; "
                f"{tagged['removed']:,} rule tags removed; sentiment of {scored:,} tags."
            )
        )
