"""Card photos as received at submission, appended to segment files: each web process writes
its own segment, one photo after the other; the application's `bank_card_photo` names its
slice (`card-photos/received/<segment>.seg@<offset>+<length>`).

Why not a file per upload. Creating a new file is the file system's slowest operation: a new
inode, a directory entry, journalled metadata, and it cost 0.12–1.1 ms of CPU per 150 KB photo
on this machine's ext4 (more the longer the disk had been busy; the rename into place as much
again), against 0.02–0.05 ms to append the same bytes to an open file — up to a quarter of a
submission's whole cost in the opening rush (bench_intake, bench_request_cpu). It is the
reason photo stores such as Facebook's Haystack keep many photos in one large append-only
file. The stored copies that reviewers see stay one file per photo (`uploads.store`): they are
written by the registry check, outside the rush.

A slice lives for seconds: the registry check reads it, stores the re-encoded copy and erases
the slice — overwrites it with zeros (the original's EXIF, GPS included, does not stay on
disk) and gives its blocks back to the file system (a hole, `fallocate(PUNCH_HOLE)`: 6000
phone photos of a few MB would otherwise hold gigabytes of zeros until their segment goes).
A refused submission erases its slice at once. A process starts a new segment after
SEGMENT_MAX_AGE seconds or SEGMENT_MAX_BYTES; `sweep()` (periodic task) deletes a segment once
it is SEGMENT_KEEP old and no application names it any more — a process that died, or a slice
never committed, leaves nothing behind for longer than that.

Appends are serialized by a lock per process (a pwrite of a photo takes tens of µs) and are
fork-safe (a child starts with a fresh lock and without its parent's segment). Nothing is
fsynced, as with the files before: a crash of the machine loses what the page cache held.
"""

import ctypes
import ctypes.util
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

RECEIVED_DIR = "card-photos/received"
SEGMENT_SUFFIX = ".seg"
SEGMENT_MAX_BYTES = 256 * 1024 * 1024
SEGMENT_MAX_AGE = 600  # seconds a process appends to one segment
SEGMENT_KEEP = 3600  # an unreferenced segment is deleted once it is this old
MAX_SLICE_BYTES = 5 * 1024 * 1024  # uploads.PHOTO_MAX_BYTES: nothing larger is received
_NAME_TIME = "%Y%m%dT%H%M%SZ"
# ASCII digits only, and nothing after the length (`$` would let a newline through).
_REF = re.compile(
    rf"({re.escape(RECEIVED_DIR)}/([0-9]{{8}}T[0-9]{{6}}Z)-[0-9]+-[0-9a-f]{{8}}"
    rf"{re.escape(SEGMENT_SUFFIX)})@([0-9]{{1,12}})\+([0-9]{{1,8}})\Z"
)

log = logging.getLogger(__name__)


@dataclass
class _Segment:
    pid: int
    root: str
    relative: str
    fd: int
    started: float
    size: int = 0


_lock = threading.Lock()
_open_segment: _Segment | None = None


def _forget_after_fork():
    """In a forked child: a lock the parent's threads may have held, and the parent's
    segment (its descriptor closed now, before anything in the child can reuse the number)."""
    global _lock, _open_segment
    _lock = threading.Lock()
    if _open_segment is not None:
        try:
            os.close(_open_segment.fd)
        except OSError:
            pass
        _open_segment = None


os.register_at_fork(after_in_child=_forget_after_fork)


def is_ref(value: str) -> bool:
    return bool(value) and _locate(value) is not None


def append(data: bytes) -> str:
    """Write `data` to this process's segment; return the slice's reference."""
    global _open_segment
    if not 0 < len(data) <= MAX_SLICE_BYTES:
        raise ValueError("an upload is kept only when it is 1 byte to 5 MB")
    root = str(settings.PRIVATE_MEDIA_ROOT)
    with _lock:
        seg = _open_segment
        if seg is None or not _usable(seg, root, len(data)):
            if seg is not None and seg.pid == os.getpid():
                os.close(seg.fd)
            seg = _open_segment = _start(root)
        offset = seg.size
        seg.size += len(data)  # a failed write leaves a gap nobody names, never an overlap
        _pwrite_all(seg.fd, data, offset)
    return f"{seg.relative}@{offset}+{len(data)}"


def _usable(seg: _Segment, root: str, size: int) -> bool:
    return (
        seg.pid == os.getpid()
        and seg.root == root
        and seg.size + size <= SEGMENT_MAX_BYTES
        and time.time() - seg.started < SEGMENT_MAX_AGE
    )


def _start(root: str) -> _Segment:
    folder = Path(root) / RECEIVED_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = time.time()
    stamp = datetime.fromtimestamp(started, UTC).strftime(_NAME_TIME)
    name = f"{stamp}-{os.getpid()}-{os.urandom(4).hex()}{SEGMENT_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    fd = os.open(folder / name, flags, 0o600)
    return _Segment(os.getpid(), root, f"{RECEIVED_DIR}/{name}", fd, started)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _locate(ref: str) -> tuple[Path, int, int] | None:
    match = _REF.match(ref or "")
    if match is None or not 0 < int(match[4]) <= MAX_SLICE_BYTES:
        return None
    return Path(settings.PRIVATE_MEDIA_ROOT) / match[1], int(match[3]), int(match[4])


def read(ref: str) -> bytes | None:
    """The slice's bytes; None if the reference is not a slice, or it is gone or erased."""
    where = _locate(ref)
    if where is None:
        return None
    path, offset, length = where
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        chunks, got = [], 0
        while got < length:
            chunk = os.pread(fd, length - got, offset + got)
            if not chunk:
                return None  # the segment ends before the slice does
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return None if data.count(0) == length else data


def erase(ref: str) -> None:
    """Overwrite the slice with zeros (the photo must not outlive its use on disk), then free
    its blocks where the file system can."""
    where = _locate(ref)
    if where is None:
        return
    path, offset, length = where
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        _pwrite_all(fd, bytes(length), offset)
        _punch_hole(fd, offset, length)
    finally:
        os.close(fd)


_FALLOC_FL_KEEP_SIZE, _FALLOC_FL_PUNCH_HOLE = 0x01, 0x02


def _punch_hole(fd: int, offset: int, length: int) -> bool:
    """Linux's fallocate(2) PUNCH_HOLE (ext4, xfs, btrfs, tmpfs); False where unsupported
    (the zeros stay until the segment is deleted)."""
    fallocate = _libc_fallocate()
    if fallocate is None:
        return False
    return fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length) == 0


_fallocate = None


def _libc_fallocate():
    global _fallocate
    if _fallocate is None:
        try:
            function = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).fallocate
            function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
            function.restype = ctypes.c_int
        except (OSError, AttributeError):
            function = False
        _fallocate = function
    return _fallocate or None


def sweep(now: float | None = None) -> int:
    """Delete the segments started SEGMENT_KEEP ago or earlier that no application names;
    returns how many. (A segment is written to for SEGMENT_MAX_AGE at most.)"""
    from subsidy.models import Application

    now = time.time() if now is None else now
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / RECEIVED_DIR
    if not folder.is_dir():
        return 0
    deleted = 0
    for path in folder.glob(f"*{SEGMENT_SUFFIX}"):
        relative = f"{RECEIVED_DIR}/{path.name}"
        match = _REF.match(f"{relative}@0+0")
        if match is None:
            continue  # not one of ours: left alone
        try:
            started = datetime.strptime(match[2], _NAME_TIME).replace(tzinfo=UTC).timestamp()
        except ValueError:
            log.warning("received photos: a segment with an impossible date in its name left alone")
            continue
        if now - started < SEGMENT_KEEP:
            continue
        if Application.objects.filter(bank_card_photo__startswith=f"{relative}@").exists():
            continue
        path.unlink(missing_ok=True)
        deleted += 1
    return deleted
