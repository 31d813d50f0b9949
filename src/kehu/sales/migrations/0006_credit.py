
import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0011_payment_terms'),
        ('sales', '0005_account_plans'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CreditFlag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject', models.CharField(choices=[('order', 'Order'), ('invoice', 'Invoice'), ('import', 'Imported transactions'), ('opportunity', 'Opportunity')], max_length=12, verbose_name='what')),
                ('reference', models.CharField(blank=True, max_length=200, verbose_name='reference')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount')),
                ('open_receivables', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='open receivables')),
                ('credit_limit', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='credit limit')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='flagged at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='credit_flags', to='customers.customer', verbose_name='customer')),
                ('transaction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='credit_flags', to='customers.transaction', verbose_name='transaction')),
            ],
            options={
                'verbose_name': 'credit-limit flag',
                'verbose_name_plural': 'credit-limit flags',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Receivable',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                ('number', models.CharField(blank=True, max_length=50, verbose_name='invoice number')),
                ('issued_on', models.DateField(verbose_name='invoice date')),
                ('due_on', models.DateField(db_index=True, verbose_name='due date')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, validators=[django.core.validators.MinValueValidator(Decimal('0.01'), message='Must be more than zero.')], verbose_name='amount')),
                ('paid', models.DecimalField(decimal_places=2, default=Decimal('0'), editable=False, max_digits=14, verbose_name='paid')),
                ('paid_on', models.DateField(blank=True, editable=False, null=True, verbose_name='paid in full on')),
                ('notes', models.CharField(blank=True, max_length=300, verbose_name='notes')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receivables', to='customers.customer', verbose_name='customer')),
                ('transaction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='receivables', to='customers.transaction', verbose_name='transaction')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last changed by')),
            ],
            options={
                'verbose_name': 'receivable',
                'verbose_name_plural': 'receivables',
                'ordering': ['due_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Payment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('paid_on', models.DateField(verbose_name='payment date')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, validators=[django.core.validators.MinValueValidator(Decimal('0.01'), message='Must be more than zero.')], verbose_name='amount')),
                ('method', models.CharField(choices=[('transfer', 'Bank transfer'), ('acceptance', 'Bank acceptance bill'), ('cheque', 'Cheque'), ('cash', 'Cash'), ('other', 'Other')], default='transfer', max_length=12, verbose_name='method')),
                ('reference', models.CharField(blank=True, max_length=100, verbose_name='reference')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                ('receivable', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payments', to='sales.receivable', verbose_name='receivable')),
            ],
            options={
                'verbose_name': 'payment',
                'verbose_name_plural': 'payments',
                'ordering': ['paid_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CreditIncident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('kind', models.CharField(choices=[('late_payment', 'Late payment'), ('dumping', 'Dumping below price'), ('outside_territory', 'Selling outside their territory'), ('other', 'Other')], default='other', max_length=20, verbose_name='kind')),
                ('occurred_on', models.DateField(verbose_name='date')),
                ('description', models.TextField(verbose_name='description')),
                ('evidence', models.CharField(blank=True, max_length=300, verbose_name='evidence')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='credit_incident_records', to='customers.customer', verbose_name='customer')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
            ],
            options={
                'verbose_name': 'credit incident',
                'verbose_name_plural': 'credit incidents',
                'ordering': ['-occurred_on', '-id'],
                'indexes': [models.Index(fields=['customer', 'occurred_on'], name='sales_credi_custome_1e4b5c_idx')],
            },
        ),
        migrations.AddIndex(
            model_name='receivable',
            index=models.Index(fields=['customer', 'due_on'], name='sales_recei_custome_cf58a4_idx'),
        ),
        migrations.AddConstraint(
            model_name='receivable',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='receivable_amount'),
        ),
        migrations.AddConstraint(
            model_name='receivable',
            constraint=models.CheckConstraint(condition=models.Q(('paid__gte', 0), ('paid__lte', models.F('amount'))), name='receivable_paid_within_amount'),
        ),
        migrations.AddConstraint(
            model_name='receivable',
            constraint=models.CheckConstraint(condition=models.Q(('due_on__gte', models.F('issued_on'))), name='receivable_due_after_issue'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='payment_amount'),
        ),
    ]
