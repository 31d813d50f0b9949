"""Substring search that stays fast at a million customers.

search_text becomes unbounded text (with each Chinese character's own reading added, see
kehu.customers.search.char_pinyin) and gets a trigram index and a word index: FTS5 tables
kept in step by triggers on SQLite, pg_trgm and full-text GIN indexes on PostgreSQL.
"""

from django.conf import settings
from django.db import migrations, models

FTS = "customers_customer_fts"
WORDS = "customers_customer_words"
SQLITE = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(search_text, content='customers_customer',
        content_rowid='id', tokenize='trigram')""",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON customers_customer BEGIN
        INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON customers_customer BEGIN
        INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF search_text ON customers_customer BEGIN
        INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
    # Queries of one or two letters are too short for trigrams: they match the start of a
    # word (the initials "ww", a pinyin "wa..."), through a word index with prefix tables.
    f"""CREATE VIRTUAL TABLE {WORDS} USING fts5(search_text, content='customers_customer',
        content_rowid='id', tokenize='unicode61', prefix='1 2')""",
    f"""CREATE TRIGGER {WORDS}_insert AFTER INSERT ON customers_customer BEGIN
        INSERT INTO {WORDS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
    f"""CREATE TRIGGER {WORDS}_delete AFTER DELETE ON customers_customer BEGIN
        INSERT INTO {WORDS}({WORDS}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text); END""",
    f"""CREATE TRIGGER {WORDS}_update AFTER UPDATE OF search_text ON customers_customer BEGIN
        INSERT INTO {WORDS}({WORDS}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO {WORDS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
    f"INSERT INTO {WORDS}({WORDS}) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
    f"DROP TRIGGER IF EXISTS {WORDS}_insert",
    f"DROP TRIGGER IF EXISTS {WORDS}_delete",
    f"DROP TRIGGER IF EXISTS {WORDS}_update",
    f"DROP TABLE IF EXISTS {WORDS}",
]
POSTGRES = [
    # pg_trgm is a trusted extension: the database owner may create it without superuser.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX customers_customer_search_trgm ON customers_customer "
    "USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX customers_customer_search_words ON customers_customer "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS customers_customer_search_trgm",
                    "DROP INDEX IF EXISTS customers_customer_search_words"]


def refresh_search_text(apps, schema_editor):
    from kehu.customers.search import search_text

    Customer = apps.get_model("customers", "Customer")
    last = 0
    while True:
        rows = list(Customer.objects.filter(pk__gt=last).order_by("pk")
                    .only("name", "phone", "mobile", "email", "external_id")[:5000])
        if not rows:
            break
        for c in rows:
            c.search_text = search_text(name=c.name, phones=(c.phone, c.mobile), email=c.email,
                                        external_id=c.external_id)
        Customer.objects.bulk_update(rows, ["search_text"], batch_size=1000)
        last = rows[-1].pk


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES if vendor == "postgresql" else SQLITE if vendor == "sqlite" else []:
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in (POSTGRES_REVERSE if vendor == "postgresql" else
                SQLITE_REVERSE if vendor == "sqlite" else []):
        schema_editor.execute(sql)


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
