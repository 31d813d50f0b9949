"""Substring search that stays fast at a million customers.

search_text becomes unbounded text (with each Chinese character's own reading added, see
kehu.customers.search.char_pinyin) and gets a trigram index and a word index (see
kehu.customers.search_index).
"""

from django.conf import settings
from django.db import migrations, models


def refresh_search_text(apps, schema_editor):
    from kehu.customers.search import search_text

    Customer = apps.get_model("customers", "Customer")
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list(
                "pk", "name", "phone", "mobile", "email", "external_id")[:5000])
            if not rows:
                break
            # Plain UPDATEs by id: bulk_update's CASE expressions crawl at a million rows.
            cursor.executemany(
                "UPDATE customers_customer SET search_text = %s WHERE id = %s",
                [(search_text(name=name, phones=(phone, mobile), email=email,
                              external_id=external_id), pk)
                 for pk, name, phone, mobile, email, external_id in rows])
            last = rows[-1][0]


def create_index(apps, schema_editor):
    from kehu.customers import search_index

    search_index.install(schema_editor.connection)


def drop_index(apps, schema_editor):
    from kehu.customers import search_index

    search_index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("customers", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="search_text",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "name", "id"],
                               name="customers_c_owner_i_0e16ad_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["team", "name", "id"],
                               name="customers_c_team_id_c12915_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["lifecycle_state", "name", "id"],
                               name="customers_c_lifecyc_9142f8_idx"),
        ),
        migrations.RunPython(refresh_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
