# The registry check became an app of its own: its one model, the proxy behind the admin list
# of checks past the SLA, moves here from the subsidy app without touching a table (a proxy
# has none; its rows are subsidy_application's). Its content type moves with it, so the
# permissions staff hold on the list (auth_permission rows point at the content type) follow.

from django.db import migrations


def move_content_type(apps, schema_editor, src="subsidy", dst="registry"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    types = ContentType.objects.using(db)
    if types.filter(app_label=dst, model="overdueregistrycheck").exists():
        return  # created by a post_migrate run in between; the old one goes stale
    types.filter(app_label=src, model="overdueregistrycheck").update(app_label=dst)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, src="registry", dst="subsidy")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("subsidy", "0055_application_member_campaign_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
