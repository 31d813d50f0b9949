import django.db.models.deletion
from django.db import migrations, models

INDEXES = {  # name: column, as Django named them on both databases
    "analytics_customervalue_at_risk_9d0aa119": "at_risk",
    "analytics_customervalue_refresh_id_cb583582": "refresh_id",
}


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    table = schema_editor.quote_name("analytics_customervalue")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)} ON {table} "
            f"({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    """The scores lose two indexes every refresh paid for and nothing used: the refresh's
    (every row names the latest one) and at risk's (two values, a row each). The few
    customers at risk get a partial index instead. Dropped by name: altering the fields
    would make SQLite copy the whole scores table twice."""

    dependencies = [
        ("analytics", "0010_scores_without_constraints"),
        ("customers", "0015_history_without_unread_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customervalue",
                    name="at_risk",
                    field=models.BooleanField(default=False, verbose_name="at risk"),
                ),
                migrations.AlterField(
                    model_name="customervalue",
                    name="refresh",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="analytics.valuerefresh",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
        migrations.AddIndex(
            model_name="customervalue",
            index=models.Index(
                condition=models.Q(("at_risk", True)),
                fields=["customer"],
                name="analytics_value_at_risk",
            ),
        ),
    ]
