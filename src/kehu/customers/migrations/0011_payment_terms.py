import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_decision_chain_roles")]

    operations = [
        migrations.AddField(
            model_name="customer", name="payment_terms_days",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="payment terms (days)",
                validators=[django.core.validators.MaxValueValidator(
                    365, message="At most 365 days.")])),
        migrations.AddField(
            model_name="historicalcustomer", name="payment_terms_days",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="payment terms (days)",
                validators=[django.core.validators.MaxValueValidator(
                    365, message="At most 365 days.")])),
    ]
