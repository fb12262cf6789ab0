from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self):
        from metrics.services import responses_changed
        from rootcause.services import issue_changed

        issue_changed.connect(_issue_changed, dispatch_uid="outcomes-business-case")
        responses_changed.connect(_responses_changed, dispatch_uid="outcomes-business-cases")


def _issue_changed(sender, issue_id, **kwargs):
    from outcomes.services import business_case_queue

    business_case_queue(issue_id=issue_id)


def _responses_changed(sender, **kwargs):
    from outcomes.services import business_cases_queue

    business_cases_queue()
