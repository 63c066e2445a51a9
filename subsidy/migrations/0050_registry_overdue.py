# The staff list of registry checks past the SLA (issue 4): a proxy, no table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("subsidy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="OverdueRegistryCheck",
            fields=[],
            options={
                "verbose_name": "学历校核超时申领",
                "verbose_name_plural": "学历校核超时申领",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("subsidy.application",),
        ),
    ]
