from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("rootcause", "0015_blocked_items_index"),
    ]

    operations = [
        # The scorecard's days per state walk each issue's history in date order (window functions
        # partitioned by issue): this index gives the rows in that order with the state, so the walk
        # reads the index instead of sorting the history table's wide rows (each holds its evidence).
        # django-simple-history's model does not declare it.
        migrations.RunSQL(
            "CREATE INDEX historical_issue_walk ON rootcause_historicalissue (id, history_date, history_id, state)",
            "DROP INDEX historical_issue_walk",
        ),
    ]
