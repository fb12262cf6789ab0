from celery import shared_task

from outcomes import services


@shared_task(name="outcomes.refresh_business_case", ignore_result=True, acks_late=True)
def refresh_business_case(issue_id: int) -> None:
    """Recompute one issue's business case (it was opened, changed or verified); safe to run twice."""
    services.business_case_refresh(issue_id=issue_id)


@shared_task(name="outcomes.refresh_business_cases", ignore_result=True, acks_late=True)
def refresh_business_cases() -> int:
    """Recompute every business case (new data, new costs, or the hourly schedule); safe to run twice."""
    return services.business_cases_refresh()
