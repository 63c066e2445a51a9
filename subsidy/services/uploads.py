"""Bank card photos: verified by content, capped, decoded, re-encoded, stored privately.

Only JPEG and PNG are accepted, decided by what Pillow finds in the bytes (never by the name
or the browser's content type). A phone's multi-picture JPEG (MPO: the photo followed by a
depth or HDR gain map, as many cameras write) is a JPEG: its first picture is kept. Files over
PHOTO_MAX_BYTES or the pixel caps are refused before decoding; a JPEG cut short is refused by
its structure, a truncated or corrupt PNG by its chunks' lengths and checksums — all of this
in the submission request (`verify_card_photo`), so the applicant gets the message at once.

The verified upload is stored as received (`receive`: appended to this process's segment
file under settings.PRIVATE_MEDIA_ROOT, `subsidy.services.received`) and the application is
committed; the registry check, seconds later and before
any reviewer can see the application, replaces it by a fresh JPEG (`sanitize`: EXIF and any
other metadata dropped, orientation applied) — the re-encoding's CPU stays out of the opening
rush (bench_intake). Only `subsidy.web_views.card_photo` serves a photo, and it never serves
an upload as received: it finalizes it first. (Uploads of earlier versions were files of
their own, `.upload`; they are finalized the same way.)
"""

import io
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from subsidy import codes
from subsidy.services import received

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
# Stored copies are scaled down to this long side: plenty to read a card number.
PHOTO_MAX_SIDE = 2400
JPEG_FORMATS = {"JPEG", "MPO"}  # Pillow names a multi-picture JPEG "MPO"
ACCEPTED_FORMATS = JPEG_FORMATS | {"PNG"}
# A PNG is decoded whole (no reduced-scale decoding as for JPEG): 4 bytes a pixel in the
# worker that re-encodes it. A small file of a large blank PNG must not cost hundreds of MB.
PNG_MAX_PIXELS = 16_000_000
PHOTO_DIR = "card-photos"
ORIGINAL_SUFFIX = ".upload"  # a received upload of an earlier version: never served
SANITIZED_SUFFIX = ".jpg"

log = logging.getLogger(__name__)

# Pillow refuses larger images itself (DecompressionBombError beyond twice this).
Image.MAX_IMAGE_PIXELS = PHOTO_MAX_PIXELS


@dataclass
class UploadError(Exception):
    code: str
    detail: str = ""

    def __post_init__(self):
        self.detail = self.detail or codes.text(self.code)

    def __str__(self):
        return self.detail


def verify_card_photo(uploaded) -> bytes:
    """Verify an uploaded file at submission; return its bytes as uploaded. Raises UploadError.

    Size and pixel caps before any decoding; the type by content; then completeness — a file
    cut short fails here, in the request, with its message. A JPEG is checked by its
    structure (`_check_jpeg_complete`), a PNG by its chunks (`verify`: lengths and CRCs, no
    decompression — a full decode of a 6300 × 6300 PNG of 154 KB cost 0.46 s of CPU and
    ~230 MB); the full decode, rotation and re-encoding happen in `sanitize`, once the
    application is stored."""
    if uploaded is None:
        raise UploadError("photo_required", "请上传银行卡照片")
    size = getattr(uploaded, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise UploadError("photo_too_large", "银行卡照片不能超过 5 MB，请压缩后重新上传")
    uploaded.seek(0)
    data = uploaded.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise UploadError("photo_too_large", "银行卡照片不能超过 5 MB，请压缩后重新上传")
    if not data:
        raise UploadError("photo_required", "请上传银行卡照片")
    with _decoding():
        # Over 2 × MAX_IMAGE_PIXELS Pillow raises DecompressionBombError at open; between
        # 1× and 2× it only warns, so the explicit size check below refuses those (no global
        # warnings filter: that is not thread-safe under a threaded server).
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise UploadError("photo_type", "银行卡照片只支持 JPG 或 PNG 格式")
        _check_pixels(image)
        if image.format in JPEG_FORMATS:
            _check_jpeg_complete(image, data)
        else:
            image.verify()
    return data


def _check_pixels(image) -> None:
    width, height = image.size
    cap = PNG_MAX_PIXELS if image.format == "PNG" else PHOTO_MAX_PIXELS
    if width * height > cap:
        raise UploadError("photo_too_many_pixels", "银行卡照片像素过大，请压缩后重新上传")


def _check_jpeg_complete(image, data: bytes) -> None:
    """A JPEG whose scan data does not reach its end-of-image marker was cut short: refused.

    Pillow's open has parsed every header segment up to the start of the scan (SOS) and
    left the file position right after it. Inside entropy-coded data every 0xFF byte is
    stuffed (FF 00) or a restart marker (FF D0–D7), so FF D9 after that point can only be
    the EOI marker; an EXIF thumbnail's own EOI lies before it and does not count.

    A verifying decode (even at 1/8 scale) cost ~3 ms of CPU per 150 KB photo, a sixth of a
    submission in the opening rush; this costs ~0.01 ms and refuses what a phone upload
    actually gets wrong, a file cut short. Damage inside the scan data is left to `sanitize`
    in the registry check, seconds later: libjpeg decodes most of it with a warning; what it
    cannot decode is logged and the application shows no photo (未上传) to its reviewer."""
    scan_start = image.fp.tell()
    if data.rfind(b"\xff\xd9") < scan_start:  # from the end: the marker is found at once
        raise UploadError("photo_corrupt", "银行卡照片已损坏或不完整，请重新拍摄上传")


def sanitize(data: bytes) -> bytes:
    """The stored copy: fully decoded, turned upright, flattened to RGB, scaled to at most
    PHOTO_MAX_SIDE and re-encoded as a fresh JPEG. Pillow writes only the metadata passed to
    save(): no EXIF (GPS, camera), ICC or XMP of the original survives. Raises UploadError."""
    with _decoding():
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise UploadError("photo_type", "银行卡照片只支持 JPG 或 PNG 格式")
        _check_pixels(image)
        if image.format in JPEG_FORMATS:  # a 12 MP phone photo decodes at 1/2 or 1/4 scale
            image.draft(image.mode, (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
        image.load()
        # Rotated in place, and only when an orientation tag asks for it.
        ImageOps.exif_transpose(image, in_place=True)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def process_card_photo(uploaded) -> bytes:
    """Verify and sanitize in one go (the stored copy's bytes). Raises UploadError."""
    return sanitize(verify_card_photo(uploaded))


class _decoding:
    """Pillow's exceptions while decoding, as UploadErrors with the applicant's message."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, UploadError):
            return False
        if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
            raise UploadError("photo_too_many_pixels", "银行卡照片像素过大，请压缩后重新上传")
        if isinstance(exc, UnidentifiedImageError):
            raise UploadError("photo_type", "银行卡照片只支持 JPG 或 PNG 格式")
        if isinstance(exc, OSError | SyntaxError | ValueError):
            raise UploadError("photo_corrupt", "银行卡照片已损坏或不完整，请重新拍摄上传")
        return False


def receive(data: bytes) -> str:
    """Keep a verified upload as received, until the registry check re-encodes it; return
    its reference (a slice of a segment file: `subsidy.services.received`)."""
    return received.append(data)


def store(data: bytes, suffix: str = SANITIZED_SUFFIX) -> str:
    """Write the bytes under PRIVATE_MEDIA_ROOT with a random name; return the relative path."""
    now = timezone.localtime()
    relative = f"{PHOTO_DIR}/{now:%Y/%m}/{secrets.token_hex(16)}{suffix}"
    target = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return relative


def is_original(relative: str) -> bool:
    """An upload as received (not yet re-encoded): never served as it is."""
    return relative.endswith(ORIGINAL_SUFFIX) or received.is_ref(relative)


def read_original(relative: str) -> bytes | None:
    if received.is_ref(relative):
        return received.read(relative)
    source = path_of(relative)
    return None if source is None else source.read_bytes()


def finalize_application_photo(application_id: int) -> str:
    """Replace an application's received upload by its sanitized copy (idempotent: a stored
    copy is left alone). Runs in the registry check, before any reviewer can see the
    application, and on demand in the photo view. Returns the path now on the application."""
    from subsidy.models import Application

    current = (
        Application.objects.filter(pk=application_id)
        .values_list("bank_card_photo", flat=True)
        .first()
    )
    if not current or not is_original(current):
        return current or ""
    original = read_original(current)
    final = ""
    if original is None:  # gone from disk (a crash before it was written out, say)
        log.warning("card photo of application %s is missing as received", application_id)
    else:
        try:
            final = store(sanitize(original))
        except UploadError as exc:  # verified at submission; a decoder disagreeing is rare
            log.warning("card photo of application %s could not be re-encoded: %s",
                        application_id, exc.code)  # fmt: skip
    updated = Application.objects.filter(pk=application_id, bank_card_photo=current).update(
        bank_card_photo=final
    )
    if updated:
        delete(current)
        return final
    delete(final)  # someone else finalized it meanwhile
    return (
        Application.objects.filter(pk=application_id)
        .values_list("bank_card_photo", flat=True)
        .first()
        or ""
    )


def path_of(relative: str) -> Path | None:
    """The absolute path of a stored photo, refusing anything outside the private root."""
    if not relative:
        return None
    root = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


def delete(relative: str) -> None:
    if received.is_ref(relative):
        received.erase(relative)
        return
    target = path_of(relative)
    if target is not None:
        target.unlink(missing_ok=True)
