# Suppliers directory and the supplier of a deal's line (issue 17, documents).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0006_lead_unassigned_open_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Supplier',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=300, verbose_name='name')),
                ('search_name', models.CharField(db_index=True, default='', editable=False, max_length=300)),
                ('emails', models.JSONField(blank=True, default=list, verbose_name='e-mails')),
                ('phones', models.JSONField(blank=True, default=list, verbose_name='phones')),
                ('terms', models.TextField(blank=True, verbose_name='terms')),
                ('custom', models.JSONField(blank=True, default=dict, verbose_name='custom fields')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'supplier',
                'verbose_name_plural': 'suppliers',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.AddField(
            model_name='deallineitem',
            name='supplier',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='lines', to='deals.supplier', verbose_name='supplier'),
        ),
    ]
