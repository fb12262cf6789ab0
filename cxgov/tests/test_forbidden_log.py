"""A refused request is logged as one line (path and reason), never as a traceback."""

import logging


def test_a_403_is_logged_as_one_line_without_a_traceback(org, client_for, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(org["stakeholder"]).get("/people/new/")
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and record.exc_text is None
    line = record.getMessage()
    assert line.startswith("Forbidden (Permission denied): /people/new/") and "\n" not in line
    assert caplog.text.count("\n") == 1 and "Traceback" not in caplog.text
