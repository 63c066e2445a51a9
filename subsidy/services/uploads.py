"""Bank card photos: verified by content, capped, decoded, re-encoded, stored privately.

Only JPEG and PNG are accepted, decided by what Pillow finds in the bytes (never by the name
or the browser's content type). Files over PHOTO_MAX_BYTES or PHOTO_MAX_PIXELS are refused
before decoding; truncated or corrupt images are refused by a full decode. The image is
re-encoded as a fresh JPEG (EXIF and any other metadata dropped, orientation applied) under
settings.PRIVATE_MEDIA_ROOT with a random name; only `subsidy.web_views.card_photo` serves it.
"""

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
# Stored copies are scaled down to this long side: plenty to read a card number.
PHOTO_MAX_SIDE = 2400
ACCEPTED_FORMATS = {"JPEG", "PNG"}
PHOTO_DIR = "card-photos"

# Pillow refuses larger images itself (DecompressionBombError beyond twice this).
Image.MAX_IMAGE_PIXELS = PHOTO_MAX_PIXELS


@dataclass
class UploadError(Exception):
    code: str
    detail: str

    def __str__(self):
        return self.detail


def process_card_photo(uploaded) -> bytes:
    """Verify an uploaded file and return the re-encoded JPEG bytes. Raises UploadError."""
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
    try:
        # Over 2 × MAX_IMAGE_PIXELS Pillow raises DecompressionBombError at open; between
        # 1× and 2× it only warns, so the explicit size check below refuses those (no global
        # warnings filter: that is not thread-safe under a threaded server).
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise UploadError("photo_type", "银行卡照片只支持 JPG 或 PNG 格式")
        width, height = image.size
        if width * height > PHOTO_MAX_PIXELS:
            raise UploadError("photo_too_many_pixels", "银行卡照片像素过大，请压缩后重新上传")
        image.load()  # a full decode: truncated or corrupt data fails here
        # Rotated in place, and only when an orientation tag asks for it (a copy of every
        # upload cost ~3 ms of the opening rush's CPU).
        ImageOps.exif_transpose(image, in_place=True)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError("photo_too_many_pixels", "银行卡照片像素过大，请压缩后重新上传")
    except UnidentifiedImageError:
        raise UploadError("photo_type", "银行卡照片只支持 JPG 或 PNG 格式")
    except (OSError, SyntaxError, ValueError):
        raise UploadError("photo_corrupt", "银行卡照片已损坏或不完整，请重新拍摄上传")
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    # Pillow writes only the metadata passed to save(): no EXIF/ICC/XMP of the original survives.
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def store(jpeg: bytes) -> str:
    """Write the bytes under PRIVATE_MEDIA_ROOT with a random name; return the relative path."""
    now = timezone.localtime()
    relative = f"{PHOTO_DIR}/{now:%Y/%m}/{secrets.token_hex(16)}.jpg"
    target = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(jpeg)
    os.replace(tmp, target)
    return relative


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
    target = path_of(relative)
    if target is not None:
        target.unlink(missing_ok=True)
