"""Re-importing rows that did not change writes nothing (ON CONFLICT ... DO UPDATE ... WHERE ... IS
DISTINCT FROM): the rows keep their physical version and cached analyses stay valid; a changed row
is written."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from cxgov.lib import heavy
from metrics.models import SurveyResponse
from metrics.services import responses_upsert


def _rows(comment_of_second="slow delivery"):
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        SurveyResponse(source="shop", external_id="1", responded_at=at, score=9, scale="nps", comment="great fit"),
        SurveyResponse(
            source="shop", external_id="2", responded_at=at, score=3, scale="nps", comment=comment_of_second
        ),
    ]


def _row_versions() -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, xmin::text FROM metrics_surveyresponse ORDER BY external_id")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_reimporting_unchanged_rows_writes_nothing_and_a_changed_row_is_written():
    responses_upsert(responses=_rows(), notify=False)
    version, rows = heavy.current(heavy.FEEDBACK), _row_versions()
    assert responses_upsert(responses=_rows(), notify=False) == 2  # both accepted...
    assert heavy.current(heavy.FEEDBACK) == version  # ...none written: analyses stay cached
    assert _row_versions() == rows
    responses_upsert(responses=_rows(comment_of_second="slow delivery, wrong size"), notify=False)
    assert heavy.current(heavy.FEEDBACK) == version + 1
    assert SurveyResponse.objects.get(external_id="2").comment == "slow delivery, wrong size"
    after = _row_versions()
    if after:  # PostgreSQL: only the changed row has a new version
        assert after["1"] == rows["1"] and after["2"] != rows["2"]
