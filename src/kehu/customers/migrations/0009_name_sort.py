"""Lists sort Chinese names by pinyin: name_sort, filled in batches, and the (scope, name_sort,
id) indexes keyset pagination walks."""

from django.conf import settings
from django.db import migrations, models


def fill_name_sort(apps, schema_editor):
    from kehu.customers.search import sort_key

    Customer = apps.get_model("customers", "Customer")
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list(
                "pk", "name", "kind")[:5000])
            if not rows:
                break
            # Plain UPDATEs by id: bulk_update's CASE expressions crawl at a million rows.
            cursor.executemany(
                "UPDATE customers_customer SET name_sort = %s WHERE id = %s",
                [(sort_key(name, person=kind == "person"), pk) for pk, name, kind in rows])
            last = rows[-1][0]


def byte_order(apps, schema_editor):
    """The key is compared byte by byte on both databases: SQLite does so by default, while
    a PostgreSQL cluster's locale (en_US.UTF-8, say) would skip the spaces between syllables
    and sort 李白 (li bai) after 梁山 (liang shan)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE customers_customer ALTER COLUMN name_sort '
                              'TYPE varchar(300) COLLATE "C"')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_revoke_tokens_of_inactive_users'),
        ('customers', '0008_state_lock'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customers_c_owner_i_0e16ad_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customers_c_team_id_c12915_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customers_c_lifecyc_9142f8_idx',
        ),
        migrations.AddField(
            model_name='customer',
            name='name_sort',
            field=models.CharField(blank=True, db_default="", editable=False, max_length=300),
        ),
        migrations.RunPython(byte_order, migrations.RunPython.noop),
        migrations.RunPython(fill_name_sort, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['name_sort', 'id'], name='customers_c_name_so_3bb3fb_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['owner', 'name_sort', 'id'], name='customers_c_owner_i_c92a70_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['team', 'name_sort', 'id'], name='customers_c_team_id_2c279f_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['lifecycle_state', 'name_sort', 'id'], name='customers_c_lifecyc_ae5c5a_idx'),
        ),
    ]
