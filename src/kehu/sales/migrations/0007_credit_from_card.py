"""Moves what the card held as typed-in figures and free text into the credit records.

The overdue amount is MIGRATED, not derived: each customer's typed-in overdue amount becomes
one receivable of that amount, numbered "OPENING", issued and due on the day before this
migration runs (so it counts as overdue, 1–30 days, at once) and noted as an opening balance.
From then on the overdue amount is computed from receivables and payments only; the field
itself goes in customers' migration 0012, so the old figure and the computed one can never
disagree. The free-text credit incidents become one incident of kind "other" per customer,
dated on the day the card was last changed, its text as the description."""

import datetime as dt

from django.db import migrations

OPENING_NOTE = "Overdue amount from the customer card before receivables were recorded"


def forwards(apps, schema_editor):
    customer_model = apps.get_model("customers", "Customer")
    receivable_model = apps.get_model("sales", "Receivable")
    incident_model = apps.get_model("sales", "CreditIncident")
    db = schema_editor.connection.alias
    yesterday = dt.date.today() - dt.timedelta(days=1)
    receivables, incidents = [], []
    for c in customer_model.objects.using(db).filter(overdue_amount__gt=0).only(
            "pk", "overdue_amount"):
        receivables.append(receivable_model(
            customer_id=c.pk, number="OPENING", issued_on=yesterday, due_on=yesterday,
            amount=c.overdue_amount, notes=OPENING_NOTE))
    for c in customer_model.objects.using(db).exclude(credit_incidents="").only(
            "pk", "credit_incidents", "updated_at"):
        incidents.append(incident_model(
            customer_id=c.pk, kind="other", occurred_on=c.updated_at.date(),
            description=c.credit_incidents))
    receivable_model.objects.using(db).bulk_create(receivables, batch_size=2000)
    incident_model.objects.using(db).bulk_create(incidents, batch_size=2000)


def backwards(apps, schema_editor):
    customer_model = apps.get_model("customers", "Customer")
    receivable_model = apps.get_model("sales", "Receivable")
    incident_model = apps.get_model("sales", "CreditIncident")
    db = schema_editor.connection.alias
    for r in receivable_model.objects.using(db).filter(number="OPENING", notes=OPENING_NOTE):
        customer_model.objects.using(db).filter(pk=r.customer_id).update(
            overdue_amount=r.amount - r.paid)
    for i in incident_model.objects.using(db).filter(kind="other", recorded_by__isnull=True):
        customer_model.objects.using(db).filter(pk=i.customer_id).update(
            credit_incidents=i.description)
    receivable_model.objects.using(db).filter(number="OPENING", notes=OPENING_NOTE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0006_credit"),
        ("customers", "0011_payment_terms"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
