"""The audit log stays append-only, with one exception that personal data rights need: the
details of an entry may be replaced by the redaction marker {"redacted": true} — and only
that column, only by that value. Who did what, when and to which record stays.
"""

from django.db import migrations

_SAME = ("NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.user_id IS OLD.user_id "
         "AND NEW.username = OLD.username AND NEW.action = OLD.action "
         "AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id "
         "AND NEW.customer_id IS OLD.customer_id AND NEW.ip IS OLD.ip AND NEW.via = OLD.via")

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN NOT (json(NEW.detail) = json('{{"redacted": true}}') AND {_SAME})
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
]
_PG_SAME = _SAME.replace(" IS OLD.", " IS NOT DISTINCT FROM OLD.")
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.detail = '{{"redacted": true}}'::jsonb AND {_PG_SAME} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'the audit log is append-only';
       END; $$ LANGUAGE plpgsql;""",
]
POSTGRES_REVERSE = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
]
# What 0002 created, to put back when going backwards on SQLite.
_SQLITE_0002 = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = POSTGRES_REVERSE
    else:
        statements = ["DROP TRIGGER IF EXISTS audit_event_no_update;", *_SQLITE_0002]
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
