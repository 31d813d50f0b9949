
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dataio', '0002_uploads_and_duplicates'),
    ]

    operations = [
        migrations.AlterField(
            model_name='importbatch',
            name='kind',
            field=models.CharField(choices=[('customers', 'Customers'), ('contacts', 'Contacts'), ('transactions', 'Transactions'), ('products', 'Products'), ('activities', 'Activities'), ('receivables', 'Receivables'), ('payments', 'Payments')], max_length=20, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='importmapping',
            name='kind',
            field=models.CharField(choices=[('customers', 'Customers'), ('contacts', 'Contacts'), ('transactions', 'Transactions'), ('products', 'Products'), ('activities', 'Activities'), ('receivables', 'Receivables'), ('payments', 'Payments')], max_length=20, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='importupload',
            name='kind',
            field=models.CharField(choices=[('customers', 'Customers'), ('contacts', 'Contacts'), ('transactions', 'Transactions'), ('products', 'Products'), ('activities', 'Activities'), ('receivables', 'Receivables'), ('payments', 'Payments')], max_length=20, verbose_name='kind'),
        ),
    ]
