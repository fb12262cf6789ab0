from django.core.management.base import BaseCommand, CommandError

from metrics.models import Metric
from metrics.services import metric_recalculate, metric_record_failure, metric_schedule


class Command(BaseCommand):
    help = "Recalculate every period of every active metric now (or only --metric SLUG), showing progress."

    def add_arguments(self, parser):
        parser.add_argument("--metric", help="slug of one metric")

    def handle(self, *args, metric=None, **options):
        metrics = Metric.objects.filter(active=True).order_by("name")
        if metric:
            metrics = metrics.filter(slug=metric)
            if not metrics.exists():
                raise CommandError(f"No active metric has the slug “{metric}”.")
        total, failed = metrics.count(), 0
        for number, item in enumerate(metrics, start=1):
            metric_schedule(metric=item)
            try:
                values = metric_recalculate(metric=item)
            except Exception as exc:  # recorded on the metric and reported; the rebuild goes on
                failed += 1
                metric_record_failure(metric_id=item.pk, error=f"{type(exc).__name__}: {exc}")
                self.stderr.write(f"[{number}/{total}] {item.name}: FAILED ({exc})")
            else:
                self.stdout.write(f"[{number}/{total}] {item.name}: {values} values")
        if failed:
            raise CommandError(f"{failed} of {total} metric(s) failed; see the metric pages.")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {total} metric(s)."))
