"""An admin import keeps the uploaded file (full ID numbers) between the dry run and the
confirmation: in the cache, where it expires, never as a file left in the temporary folder."""

import re
import tempfile

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export.tmp_storages import CacheStorage

from payouts.models import GrantLedger
from tests.payouts.conftest import valid_id_number as make_id_number

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/payouts/grantledger/import/"


@pytest.fixture
def tmpdir_files(tmp_path, monkeypatch):
    """Points tempfile (which TempFolderStorage uses) at a folder of this test's own, so other
    processes' files in /tmp do not count; returns a function listing what is in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return lambda: sorted(p.name for p in folder.iterdir())


def _upload(client, content: str):
    return client.post(
        IMPORT_URL,
        {
            "import_file": SimpleUploadedFile("ledger.csv", content.encode()),
            "format": "0",
            "resource": "0",
        },
    )


def _stored_name(html: str) -> str:
    return re.search(r'name="import_file_name" value="([^"]*)"', html).group(1)


def test_a_failed_import_leaves_no_file_in_the_temporary_folder(admin_client, tmpdir_files):
    number = make_id_number()
    response = _upload(
        admin_client, f"姓名,身份证号码,年度,金额\n张三,{number},2022,1500\n李四,bad,2022,1500\n"
    )
    assert response.status_code == 200
    assert "身份证号码应为 18 位" in response.content.decode()  # the import did fail
    assert tmpdir_files() == []
    assert not GrantLedger.objects.exists()


def test_with_the_default_storage_the_failed_import_would_stay_on_disk(
    admin_client, tmpdir_files, settings, tmp_path
):
    """The control case: django-import-export's default keeps the file in the temporary folder."""
    settings.IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.TempFolderStorage"
    number = make_id_number()
    _upload(
        admin_client, f"姓名,身份证号码,年度,金额\n张三,{number},2022,1500\n李四,bad,2022,1500\n"
    )
    left = tmpdir_files()
    assert len(left) == 1
    assert number in (tmp_path / "tmp" / left[0]).read_text(encoding="utf-8")


def test_dry_run_then_confirm_imports_from_the_cache_and_removes_it(admin_client, tmpdir_files):
    number = make_id_number()
    response = _upload(admin_client, f"姓名,身份证号码,年度,金额\n张三,{number},2022,1500\n")
    html = response.content.decode()
    assert "process_import" in html
    name = _stored_name(html)
    key = CacheStorage.CACHE_PREFIX + name
    assert number.encode() in cache.get(key)  # kept in the cache, with an expiry
    assert tmpdir_files() == []
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    confirm = {k: hidden[k] for k in ("import_file_name", "original_file_name", "format")}
    confirm["resource"] = hidden.get("resource", "0")
    response = admin_client.post("/admin/payouts/grantledger/process_import/", confirm)
    assert response.status_code == 302
    assert GrantLedger.objects.get().name == "张三"
    assert cache.get(key) is None  # removed once imported
    assert tmpdir_files() == []


def test_an_unconfirmed_upload_is_kept_for_half_an_hour_not_a_day(monkeypatch):
    from django.conf import settings
    from django.utils.module_loading import import_string

    storage_class = import_string(settings.IMPORT_EXPORT_TMP_STORAGE_CLASS)
    assert issubclass(storage_class, CacheStorage)
    stored = {}
    monkeypatch.setattr(cache, "set", lambda key, value, timeout: stored.update(t=timeout))
    storage_class().save(b"name,id")
    assert stored["t"] == 30 * 60
