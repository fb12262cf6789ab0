"""Customers' text is stored as written; every export makes it harmless for spreadsheets (OWASP
CSV injection): CSV and XLSX files and the plain-text part of emails."""

from types import SimpleNamespace

from cxgov.lib.emails import templated_email


def test_the_plain_text_part_of_an_email_neutralises_a_formula_title_and_the_html_part_escapes_it(db):
    issue = SimpleNamespace(
        pk=7, title='=HYPERLINK("http://x","refund")', get_priority_display="High", target_quarter=""
    )
    message = templated_email(
        "issues_assigned",
        {
            "person": SimpleNamespace(first_name="Lee", username="lee"),
            "by": "cx",
            "issues": [issue],
            "function": SimpleNamespace(name="Billing"),
            "is_leader": True,
        },
        to=["lee@example.com"],
    )
    assert '- \'=HYPERLINK("http://x","refund") (High priority)' in message.body
    html = message.alternatives[0][0]
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;refund&quot;)" in html
