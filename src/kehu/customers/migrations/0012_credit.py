
"""The typed-in overdue amount and the free-text credit incidents leave the card: kehu.sales
.credit's migration 0007 moved them into receivables and credit incidents first, and from now
on the overdue amount is computed from the receivables, so the two cannot disagree."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0011_payment_terms'),
        ('sales', '0007_credit_from_card'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='customer',
            name='credit_incidents',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='overdue_amount',
        ),
        migrations.RemoveField(
            model_name='historicalcustomer',
            name='credit_incidents',
        ),
        migrations.RemoveField(
            model_name='historicalcustomer',
            name='overdue_amount',
        ),
    ]
