"""The registry check became an app of its own (registry/): its proxy model moved from the
subsidy app's state to the registry app's without data loss. A database built at the old
migration head — applications waiting past the SLA, the proxy's content type and a staff group
granted its permission — is migrated to the new head: the rows are all there, the admin list
shows them under /admin/registry/, and the group still holds the permission, now the registry
app's (same content type row, same permission rows)."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from subsidy.models import Application, ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory

MODEL = "overdueregistrycheck"


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_from_before_the_move_keeps_its_rows(client, campaign, tree):
    waiting = []
    for _ in range(3):
        app = ApplicationFactory(
            campaign=campaign,
            member=MemberFactory(union=tree.a1),
            status=ApplicationStatus.PENDING_CHSI,
        )
        Application.objects.filter(pk=app.pk).update(
            submitted_at=timezone.now() - timedelta(hours=5)
        )
        waiting.append(app)
    try:
        # The old head: the registry app unapplied, with whatever depends on it.
        _migrate([("registry", None)])
        loader = MigrationExecutor(connection).loader
        assert not [key for key in loader.applied_migrations if key[0] == "registry"]
        old = loader.project_state(list(loader.applied_migrations)).apps
        assert old.get_model("subsidy", "OverdueRegistryCheck")._meta.proxy
        assert "registry" not in {m._meta.app_label for m in old.get_models()}
        OldContentType = old.get_model("contenttypes", "ContentType")
        OldPermission = old.get_model("auth", "Permission")
        OldGroup = old.get_model("auth", "Group")
        OldUser = old.get_model("auth", "User")
        assert not OldContentType.objects.filter(app_label="registry", model=MODEL).exists()
        old_type, _ = OldContentType.objects.get_or_create(app_label="subsidy", model=MODEL)
        view, _ = OldPermission.objects.get_or_create(
            content_type=old_type,
            codename=f"view_{MODEL}",
            defaults={"name": "Can view 学历校核超时申领"},
        )
        group = OldGroup.objects.create(name="市总工会·学历校核")
        group.permissions.add(view)
        city = OldUser.objects.create(username="city-clerk", is_staff=True, is_active=True)
        city.groups.add(group)
        see_applications = OldPermission.objects.get(
            content_type__app_label="subsidy", codename="view_application"
        )
        city.user_permissions.add(see_applications)
        rows_before = old.get_model("subsidy", "Application").objects.count()
    finally:
        _migrate()  # the new head, whatever happened above

    from django.contrib.auth.models import User

    from registry.models import OverdueRegistryCheck

    assert Application.objects.count() == rows_before == 3
    assert set(OverdueRegistryCheck.objects.values_list("pk", flat=True)) == {a.pk for a in waiting}
    new_type = ContentType.objects.get_for_model(OverdueRegistryCheck, for_concrete_model=False)
    assert (new_type.pk, new_type.app_label) == (old_type.pk, "registry")
    assert not ContentType.objects.filter(app_label="subsidy", model=MODEL).exists()
    user = User.objects.get(username="city-clerk")
    assert user.has_perm(f"registry.view_{MODEL}")
    assert user.groups.get().permissions.get().pk == view.pk

    client.force_login(user)
    response = client.get(f"/admin/registry/{MODEL}/")
    assert response.status_code == 200
    for app in waiting:
        assert f">{app.queue_number}<" in response.content.decode()
