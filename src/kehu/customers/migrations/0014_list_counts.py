"""The generation of the customer table, raised by triggers with every change, that tells
whether a remembered list count still holds (see kehu.customers.list_counts)."""

from django.db import migrations


def install(apps, schema_editor):
    from kehu.customers import list_counts

    list_counts.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from kehu.customers import list_counts

    list_counts.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0013_fewer_state_owner_team_indexes"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
