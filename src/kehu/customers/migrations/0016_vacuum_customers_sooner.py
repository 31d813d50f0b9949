from django.db import migrations

# PostgreSQL vacuums and analyses a table once a fifth of its rows changed by default. A
# value refresh that moves a tenth of a million customers between states stays below that
# line: the moved rows' pages stay out of the visibility map, so the list's counts by
# state read the table instead of their index (175 ms instead of 56 ms for 380,000
# churned customers), and nothing brings them back until more customers change.
# A fiftieth of the rows lets autovacuum clean up within a minute of such a refresh.
SHARE = "0.02"
OPTIONS = ("autovacuum_vacuum_scale_factor", "autovacuum_analyze_scale_factor",
           "autovacuum_vacuum_insert_scale_factor")


def vacuum_sooner(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_customer SET ("
                              + ", ".join(f"{option} = {SHARE}" for option in OPTIONS) + ")")


def vacuum_as_by_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE customers_customer RESET ({', '.join(OPTIONS)})")


class Migration(migrations.Migration):
    """The customer table is vacuumed and analysed after a fiftieth of its rows changed
    (PostgreSQL; SQLite has no autovacuum of this kind)."""

    dependencies = [("customers", "0015_history_without_unread_indexes")]

    operations = [migrations.RunPython(vacuum_sooner, vacuum_as_by_default, elidable=False)]
