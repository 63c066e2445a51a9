"""Where an admin import keeps its uploaded file between the dry run and the confirmation.

django-import-export's default, a file in /tmp, stays there whenever an import is not
confirmed — with the grant ledger's full ID numbers in it. Its CacheStorage keeps the file in
the cache (Redis in production) instead, but for a day; here for IMPORT_HOLD_SECONDS: long
enough to read the preview and confirm, after which the upload is simply gone."""

from import_export.tmp_storages import CacheStorage

IMPORT_HOLD_SECONDS = 30 * 60


class ShortCacheStorage(CacheStorage):
    CACHE_LIFETIME = IMPORT_HOLD_SECONDS
