"""Photos as received: slices of per-process segment files (subsidy.services.received)."""

import os
import stat
import sys
import threading
import time
from unittest import mock

import pytest

from subsidy.models import Application
from subsidy.services import received, uploads
from tests.factories import ApplicationFactory
from tests.subsidy.conftest import image_bytes


@pytest.fixture(autouse=True)
def fresh_segment():
    """Each test starts without an open segment (a test's PRIVATE_MEDIA_ROOT is its own)."""
    received._open_segment = None
    yield
    if received._open_segment is not None:
        os.close(received._open_segment.fd)
        received._open_segment = None


def _segments(settings):
    return sorted((settings.PRIVATE_MEDIA_ROOT / received.RECEIVED_DIR).glob("*.seg"))


def test_slices_read_back_exactly_and_share_one_private_segment(settings):
    photos = [os.urandom(n) for n in (1, 150_000, 4096, 70_001)]
    refs = [uploads.receive(p) for p in photos]
    assert [uploads.read_original(r) for r in refs] == photos
    assert all(uploads.is_original(r) for r in refs)
    (segment,) = _segments(settings)
    assert stat.S_IMODE(segment.stat().st_mode) == 0o600
    assert stat.S_IMODE(segment.parent.stat().st_mode) == 0o700
    assert segment.stat().st_size == sum(map(len, photos))


def test_parallel_appends_never_overlap_even_across_rotations(settings, monkeypatch):
    """16 threads, as a gunicorn worker has, the interpreter switching between them as often
    as it can and segments renewed every few photos: every photo reads back as its own.
    (Without the lock this loses photos: overlapping slices, writes to a closed segment.)"""
    monkeypatch.setattr(received, "SEGMENT_MAX_BYTES", 100_000)
    photos = {i: os.urandom(20_000 + i) for i in range(320)}
    refs, errors = {}, []
    start = threading.Barrier(16)

    def submit(ids):
        start.wait()
        try:
            for i in ids:
                refs[i] = uploads.receive(photos[i])
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=submit, args=(range(k, 320, 16),)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert {i: uploads.read_original(r) for i, r in refs.items()} == photos
    assert len(_segments(settings)) > 50


def test_deleting_a_slice_zeroes_it_frees_its_blocks_and_leaves_the_others(settings):
    a, b, c = (os.urandom(300_000) for _ in range(3))
    ra, rb, rc = (uploads.receive(x) for x in (a, b, c))
    (segment,) = _segments(settings)
    _fsync(segment)  # blocks allocated (delayed allocation would count them later)
    blocks = segment.stat().st_blocks
    uploads.delete(rb)
    assert uploads.read_original(rb) is None
    assert (uploads.read_original(ra), uploads.read_original(rc)) == (a, c)
    content = segment.read_bytes()
    assert b not in content and bytes(300_000) in content and len(content) == 900_000
    _fsync(segment)
    # a hole (ext4 here): about a third of the space given back, the size unchanged
    assert segment.stat().st_blocks * 512 <= blocks * 512 - 290_000


def _fsync(path):
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def test_a_new_segment_after_max_age_max_size_or_a_fork(settings, monkeypatch):
    uploads.receive(b"x" * 10)
    monkeypatch.setattr(received, "SEGMENT_MAX_BYTES", 30)
    uploads.receive(b"y" * 10)  # 20 ≤ 30: same segment
    assert len(_segments(settings)) == 1
    uploads.receive(b"z" * 11)  # 31 > 30
    assert len(_segments(settings)) == 2
    monkeypatch.setattr(received, "SEGMENT_MAX_BYTES", 10**9)
    with mock.patch.object(received.time, "time", return_value=received.time.time() + 601):
        uploads.receive(b"w")
    assert len(_segments(settings)) == 3
    received._open_segment.pid = -1  # as seen by a child forked after the parent opened it
    ref = uploads.receive(b"v")
    assert len(_segments(settings)) == 4 and received._open_segment.pid == os.getpid()
    assert uploads.read_original(ref) == b"v"


@pytest.mark.parametrize(
    "ref",
    [
        "card-photos/received/../../../etc/passwd@0+10",
        "card-photos/received/x.seg@0+10",
        "/etc/passwd",
        "card-photos/received/20261205T100000Z-1-0000000a.seg@-1+10",
        "card-photos/received/20261205T100000Z-1-0000000a.seg@0+10\n",
        "card-photos/received/20261205T100000Z-1-0000000a.seg@\u0660+\u0663",
        "card-photos/received/20261205T100000Z-1-0000000a.seg@0+99999999999999",
        "card-photos/received/20261205T100000Z-1-0000000a.seg@0+0",
        "",
    ],
)
def test_references_that_are_not_slices_are_refused(ref):
    assert not received.is_ref(ref)
    assert received.read(ref) is None
    received.erase(ref)  # nothing to do, no error


def test_a_slice_past_the_end_of_its_segment_is_not_read(settings):
    ref = uploads.receive(b"abc")
    segment, rest = ref.split("@")
    assert received.read(f"{segment}@2+5") is None
    assert received.read(f"{segment}@0+3") == b"abc"


def test_a_child_forked_while_a_thread_appends_starts_its_own_segment(settings):
    parent_ref = uploads.receive(b"parent")
    received._lock.acquire()  # a thread of the parent is appending at the moment of the fork
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ref = uploads.receive(b"child")  # neither deadlocks nor writes the parent's segment
            code = 0 if ref.split("@")[0] != parent_ref.split("@")[0] else 2
        finally:
            os._exit(code)
    received._lock.release()
    assert _exit_code(pid) == 0
    assert uploads.read_original(parent_ref) == b"parent"
    assert len(_segments(settings)) == 2


def _exit_code(pid, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the child hung")


def test_a_slice_over_the_photo_limit_is_not_kept():
    with pytest.raises(ValueError):
        uploads.receive(b"x" * (received.MAX_SLICE_BYTES + 1))
    with pytest.raises(ValueError):
        uploads.receive(b"")


@pytest.mark.django_db
def test_sweep_leaves_a_file_with_an_impossible_date_and_goes_on(settings, caplog):
    uploads.receive(b"x")
    folder = settings.PRIVATE_MEDIA_ROOT / received.RECEIVED_DIR
    odd = folder / "20261399T000000Z-1-deadbeef.seg"
    odd.write_bytes(b"?")
    assert received.sweep(now=time.time() + received.SEGMENT_KEEP + 1) == 1
    assert odd.exists() and "impossible date" in caplog.text


@pytest.mark.django_db
def test_sweep_deletes_old_segments_no_application_names(settings, campaign, applicant):
    old = uploads.receive(b"old")  # then a new segment for the next one
    received._open_segment.started -= received.SEGMENT_MAX_AGE
    named = uploads.receive(image_bytes())
    ApplicationFactory(campaign=campaign, member=applicant, bank_card_photo=named)
    later = received.time.time() + received.SEGMENT_KEEP + 1
    assert received.sweep() == 0  # too young, both
    assert received.sweep(now=later) == 1  # the one no application names
    assert received.read(old) is None and received.read(named) is not None
    Application.objects.update(bank_card_photo="")
    assert received.sweep(now=later) == 1
    assert _segments(settings) == []


@pytest.mark.django_db
def test_finalizing_replaces_the_slice_by_a_jpeg_and_erases_the_slice(campaign, applicant):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    original = image_bytes("JPEG", exif=exif.tobytes())
    ref = uploads.receive(original)
    app = ApplicationFactory(campaign=campaign, member=applicant, bank_card_photo=ref)
    final = uploads.finalize_application_photo(app.pk)
    assert final.endswith(".jpg") and b"SecretPhoneMaker" not in uploads.path_of(final).read_bytes()
    assert uploads.read_original(ref) is None  # zeroed on disk
    app.refresh_from_db()
    assert app.bank_card_photo == final


@pytest.mark.django_db
def test_a_slice_gone_from_disk_leaves_no_photo_and_says_so(campaign, applicant, caplog):
    ref = uploads.receive(image_bytes())
    uploads.delete(ref)  # as after a crash before the page cache reached the disk
    app = ApplicationFactory(campaign=campaign, member=applicant, bank_card_photo=ref)
    assert uploads.finalize_application_photo(app.pk) == ""
    assert f"application {app.pk} is missing as received" in caplog.text
    assert ref not in caplog.text
