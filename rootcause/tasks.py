from celery import shared_task

from metrics.models import SurveyResponse
from rootcause import services


@shared_task(name="rootcause.tag_comments", ignore_result=True, acks_late=True)
def tag_comments(sources: list[str] | None = None, first: str | None = None, last: str | None = None) -> None:
    """Tag the comments of new or changed responses (by source and time span), or all of them."""
    responses = SurveyResponse.objects.all()
    if sources:
        responses = responses.filter(source__in=sources)
    if first:
        responses = responses.filter(responded_at__gte=first)
    if last:
        responses = responses.filter(responded_at__lte=last)
    services.comments_tag(responses=responses)
