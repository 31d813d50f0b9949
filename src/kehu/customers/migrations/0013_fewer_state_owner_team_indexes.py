# The single-column indexes of lifecycle state, owner and team duplicate the first column
# of composite indexes (customers_c_lifecyc_5963dc_idx, customers_c_owner_i_c92a70_idx,
# customers_c_team_id_*), and the history's state index is never searched; each costs every
# state change of the value refresh an index entry. Dropped by name, in SQL: Django's
# AlterField would rebuild the customer table on SQLite (three times), and its triggers
# with it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (index, table, column)
INDEXES = [
    ("customers_customer_lifecycle_state_52b47c02", "customers_customer", "lifecycle_state"),
    ("customers_customer_owner_id_fbb2798e", "customers_customer", "owner_id"),
    ("customers_customer_team_id_677425ba", "customers_customer", "team_id"),
    ("customers_historicalcustomer_lifecycle_state_59417181", "customers_historicalcustomer",
     "lifecycle_state"),
]
# PostgreSQL's second index of a text column, for LIKE 'prefix%'.
LIKE = {"lifecycle_state"}


def _names(vendor):
    for name, table, column in INDEXES:
        yield name, table, column, ""
        if vendor == "postgresql" and column in LIKE:
            yield f"{name}_like", table, column, " varchar_pattern_ops"


def drop(apps, schema_editor):
    for name, _table, _column, _ops in _names(schema_editor.connection.vendor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create(apps, schema_editor):
    for name, table, column, ops in _names(schema_editor.connection.vendor):
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}"{ops})')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_revoke_tokens_of_inactive_users'),
        ('customers', '0012_credit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, create)],
            state_operations=[
            migrations.AlterField(
                model_name='customer',
                name='lifecycle_state',
                field=models.CharField(choices=[('potential', 'Potential'), ('target', 'Target'), ('first', 'First purchase'), ('repeat', 'Repeat purchase'), ('loyal', 'Loyal'), ('churned', 'Churned'), ('non_customer', 'Non-customer')], default='potential', max_length=20, verbose_name='lifecycle state'),
            ),
            migrations.AlterField(
                model_name='customer',
                name='owner',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='owned_customers', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='customer',
                name='team',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='customers', to='accounts.team', verbose_name='team'),
            ),
            migrations.AlterField(
                model_name='historicalcustomer',
                name='lifecycle_state',
                field=models.CharField(choices=[('potential', 'Potential'), ('target', 'Target'), ('first', 'First purchase'), ('repeat', 'Repeat purchase'), ('loyal', 'Loyal'), ('churned', 'Churned'), ('non_customer', 'Non-customer')], default='potential', max_length=20, verbose_name='lifecycle state'),
            ),
            ],
        ),
    ]
