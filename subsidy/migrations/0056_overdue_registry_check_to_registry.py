# The proxy OverdueRegistryCheck now belongs to the registry app (registry/0001_initial):
# gone from this app's state only; the database is not touched.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("subsidy", "0055_application_member_campaign_index"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OverdueRegistryCheck")],
            database_operations=[],
        ),
    ]
