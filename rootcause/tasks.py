import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from metrics.models import SurveyResponse
from rootcause import services
from rootcause.models import CLOSED_STATES, Issue, TaggingRun

logger = logging.getLogger(__name__)


@shared_task(name="rootcause.tag_comments", ignore_result=True, acks_late=True)
def tag_comments(
    sources: list[str] | None = None, first: str | None = None, last: str | None = None, run_id: int | None = None
) -> None:
    """Tag the comments of new or changed responses (by source and time span), or all of them; with
    ``run_id``, report progress on that re-tagging run."""
    responses = SurveyResponse.objects.all()
    if sources:
        responses = responses.filter(source__in=sources)
    if first:
        responses = responses.filter(responded_at__gte=first)
    if last:
        responses = responses.filter(responded_at__lte=last)
    if run_id is None:
        # Language first (the English rules leave other languages untagged), then the tags'
        # sentiment; each step skips what an earlier run did, so a redelivered task is cheap.
        services.comments_analyse(responses=responses)
        services.comments_tag(responses=responses)
        services.active_models_tag(responses=responses)
        services.tags_analyse(responses=responses)
        return
    TaggingRun.objects.filter(pk=run_id).update(total=responses.exclude(comment="").count(), done=0, error="")
    try:
        services.comments_tag(
            responses=responses, on_progress=lambda done: TaggingRun.objects.filter(pk=run_id).update(done=done)
        )
    except Exception as exc:
        TaggingRun.objects.filter(pk=run_id).update(error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now())
        raise
    services.active_models_tag(responses=responses)
    services.tags_analyse(responses=responses)
    TaggingRun.objects.filter(pk=run_id).update(finished_at=timezone.now())


@shared_task(name="rootcause.bulk_tag", ignore_result=True, acks_late=True)
def bulk_tag(job_id: int) -> None:
    """Add or remove a sub-theme on the comments of a bulk job (resumes where a previous run stopped)."""
    services.bulk_tag_run(job_id=job_id)
    services.tags_analyse()  # the sentiment of the tags it added


@shared_task(name="rootcause.discover_themes", ignore_result=True, acks_late=True)
def discover_themes(run_id: int) -> None:
    """Cluster a theme-discovery run's comments into candidate sub-themes."""
    services.discovery_run(run_id=run_id)


@shared_task(name="rootcause.verify_issues", ignore_result=True)
def verify_issues() -> int:
    """Periodic: verify every open issue whose check window has ended and has no result yet."""
    due = Issue.objects.exclude(state__in=CLOSED_STATES).filter(
        ~Q(measure_kind=""), verdict="", check_end__lt=timezone.localdate()
    )
    count = 0
    for pk in due.values_list("pk", flat=True):
        try:
            services.issue_verify(issue_id=pk)
        except Exception:  # one broken issue must not stop the others; it is retried next hour
            logger.exception("Verification of issue %s failed", pk)
            continue
        count += 1
    return count


@shared_task(name="rootcause.train_model", ignore_result=True, acks_late=True)
def train_model(model_id: int) -> None:
    """Train a queued text model (a second run finds it claimed and does nothing)."""
    services.model_train_run(model_id=model_id)


@shared_task(name="rootcause.model_tag", ignore_result=True, acks_late=True)
def model_tag(model_id: int) -> None:
    """Tag the comments with a model just switched on (safe to run again: same tags)."""
    services.model_tag_run(model_id=model_id)


@shared_task(name="rootcause.retrain_models", ignore_result=True)
def retrain_models() -> int:
    """Periodic: queue a new version of the models whose key drivers gained enough new labels."""
    return len(services.models_retrain_due())
