"""Link existing reviewer accounts to the member record of the same person (issue 17): the
member whose login is the reviewer's, else the member with the reviewer's mobile. Accounts
linked before keep their link; nothing is unlinked going backwards."""

from django.db import migrations


def link(apps, schema_editor):
    ReviewerProfile = apps.get_model("unions", "ReviewerProfile")
    Member = apps.get_model("unions", "Member")
    for profile in ReviewerProfile.objects.filter(member__isnull=True).iterator():
        member = Member.objects.filter(user_id=profile.user_id).first()
        if member is None and profile.phone:
            member = Member.objects.filter(mobile=profile.phone).first()
        if member is not None:
            ReviewerProfile.objects.filter(pk=profile.pk).update(member=member)


class Migration(migrations.Migration):
    dependencies = [("unions", "0004_reviewer_identity")]

    operations = [migrations.RunPython(link, migrations.RunPython.noop, elidable=True)]
