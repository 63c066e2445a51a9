"""Bank card photos: by content, capped, decoded, re-encoded without EXIF, stored privately."""

import io

import pytest
from PIL import Image

from subsidy.services import uploads
from tests.subsidy.conftest import image_bytes, photo


def refuse(upload):
    with pytest.raises(uploads.UploadError) as exc:
        uploads.process_card_photo(upload)
    return exc.value.code


def test_png_renamed_jpg_is_accepted_by_content_and_re_encoded_as_jpeg():
    data = uploads.process_card_photo(photo("card.jpg", image_bytes("PNG"), "image/jpeg"))
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_rgba_png_is_flattened():
    buf = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(buf, "PNG")
    data = uploads.process_card_photo(photo("a.png", buf.getvalue(), "image/png"))
    assert Image.open(io.BytesIO(data)).mode == "RGB"


def test_text_file_named_jpg_is_refused():
    assert refuse(photo("card.jpg", b"this is not an image at all\n" * 20)) == "photo_type"


def test_gif_is_refused_even_though_it_is_an_image():
    assert refuse(photo("card.jpg", image_bytes("GIF"))) == "photo_type"


def test_six_megabyte_file_is_refused():
    assert refuse(photo("big.jpg", b"\xff\xd8" + b"0" * (6 * 1024 * 1024))) == "photo_too_large"


def test_decompression_bomb_is_refused():
    # A tiny PNG that claims 20000 × 20000 pixels (400 MP) — Pillow raises at open.
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    assert len(buf.getvalue()) < 5 * 1024 * 1024
    assert refuse(photo("bomb.png", buf.getvalue(), "image/png")) == "photo_too_many_pixels"


def test_image_just_over_the_pixel_cap_is_refused():
    # 50 MP: above our 40 MP cap but under Pillow's own error threshold (2 × cap).
    buf = io.BytesIO()
    Image.new("1", (10000, 5000)).save(buf, "PNG")
    assert refuse(photo("big.png", buf.getvalue(), "image/png")) == "photo_too_many_pixels"


def test_a_jpeg_just_over_the_pixel_cap_is_refused():
    buf = io.BytesIO()
    Image.new("L", (10000, 4100)).save(buf, "JPEG", quality=20)  # 41 MP
    assert refuse(photo("big.jpg", buf.getvalue())) == "photo_too_many_pixels"


def test_a_large_blank_png_is_refused_before_it_is_decoded():
    """6300 × 6300 RGBA in 154 KB: decoding it took 0.46 s and ~230 MB in the request, and
    more in the worker's re-encoding. PNG has its own, lower cap (no reduced-scale decode)."""
    buf = io.BytesIO()
    Image.new("RGBA", (6300, 6300)).save(buf, "PNG")
    assert refuse(photo("blank.png", buf.getvalue(), "image/png")) == "photo_too_many_pixels"


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.98])
def test_a_png_cut_short_is_refused_at_submission_without_decoding_it(cut, monkeypatch):
    data = image_bytes("PNG", size=(400, 300))
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))
    with pytest.raises(uploads.UploadError) as exc:
        uploads.verify_card_photo(photo("cut.png", data[: int(len(data) * cut)], "image/png"))
    assert exc.value.code == "photo_corrupt"


def test_a_phones_multi_picture_jpeg_is_accepted_and_its_first_picture_kept():
    """Many phones save a photo as MPO: a JPEG followed by a second picture (a depth or HDR
    gain map). It is a JPEG; the stored copy is its first picture."""
    buf = io.BytesIO()
    first = Image.new("RGB", (640, 400), (200, 30, 30))
    first.save(buf, "MPO", save_all=True, append_images=[Image.new("RGB", (320, 200))])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    data = uploads.process_card_photo(photo("IMG_0001.jpg", buf.getvalue()))
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG" and stored.size == (640, 400)
    assert stored.getpixel((10, 10))[0] > 150  # the red photo, not the black gain map


def test_truncated_image_is_refused():
    data = image_bytes("JPEG", size=(800, 600))
    assert refuse(photo("cut.jpg", data[: len(data) // 2])) == "photo_corrupt"


def test_missing_photo_is_refused():
    assert refuse(None) == "photo_required"


def test_exif_is_stripped():
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x8825] = {2: (23.0, 7.0, 0.0)}  # GPS
    original = image_bytes("JPEG", exif=exif.tobytes())
    assert b"SecretPhoneMaker" in original
    data = uploads.process_card_photo(photo("card.jpg", original))
    assert b"SecretPhoneMaker" not in data
    assert not Image.open(io.BytesIO(data)).getexif()


def test_orientation_is_applied_and_its_tag_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; display rotated 90°
    exif[0x010F] = "SecretPhoneMaker"
    original = image_bytes("JPEG", size=(640, 400), exif=exif.tobytes())
    data = uploads.process_card_photo(photo("card.jpg", original))
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (400, 640)
    assert not stored.getexif() and b"SecretPhoneMaker" not in data


def test_stored_under_private_root_with_random_name(settings, tmp_path):
    rel = uploads.store(image_bytes())
    assert rel.startswith("card-photos/") and rel.endswith(".jpg")
    path = uploads.path_of(rel)
    assert path is not None and str(path).startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert uploads.path_of("../../etc/passwd") is None
    uploads.delete(rel)
    assert uploads.path_of(rel) is None


def _textured_jpeg(size=(1024, 640)) -> bytes:
    """A photo-like JPEG (noise, not a flat colour): tens of KB of entropy-coded data."""
    import random

    rnd = random.Random(3)
    w, h = size
    img = Image.frombytes("RGB", (w // 4, h // 4), rnd.randbytes(w // 4 * h // 4 * 3))
    buf = io.BytesIO()
    img.resize(size).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.9, 0.99])
def test_submission_check_refuses_a_photo_cut_anywhere(cut):
    """The submission-time check finds no end-of-image marker after the scan starts: a file
    cut short anywhere is refused in the request, before anything is stored."""
    data = _textured_jpeg()
    with pytest.raises(uploads.UploadError) as exc:
        uploads.verify_card_photo(photo("cut.jpg", data[: int(len(data) * cut)]))
    assert exc.value.code == "photo_corrupt"


def test_submission_check_keeps_the_upload_as_received():
    data = _textured_jpeg()
    assert uploads.verify_card_photo(photo("card.jpg", data)) == data


def test_sanitize_decodes_a_large_phone_photo_at_a_reduced_scale():
    data = _textured_jpeg(size=(4800, 3600))  # 17 MP
    out = Image.open(io.BytesIO(uploads.sanitize(data)))
    assert max(out.size) <= uploads.PHOTO_MAX_SIDE and out.size[0] > out.size[1]


def test_an_exif_thumbnail_does_not_make_a_cut_photo_look_complete():
    """The thumbnail in the EXIF header carries its own end-of-image marker: only one after
    the main image's scan counts."""
    thumb = io.BytesIO()
    Image.new("RGB", (160, 120), "red").save(thumb, "JPEG")
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif_bytes = exif.tobytes() + thumb.getvalue()  # the thumbnail's FF D9 inside APP1
    data = _textured_jpeg()
    with_thumb = data[:2] + _app1(exif_bytes) + data[2:]
    assert uploads.verify_card_photo(photo("card.jpg", with_thumb)) == with_thumb
    cut = with_thumb[: len(with_thumb) - 5000]
    assert cut.count(b"\xff\xd9") >= 1
    with pytest.raises(uploads.UploadError) as exc:
        uploads.verify_card_photo(photo("cut.jpg", cut))
    assert exc.value.code == "photo_corrupt"


def _app1(payload: bytes) -> bytes:
    body = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body


def test_a_progressive_jpeg_is_checked_the_same_way():
    img = Image.open(io.BytesIO(_textured_jpeg()))
    buf = io.BytesIO()
    img.save(buf, "JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    assert uploads.verify_card_photo(photo("p.jpg", data)) == data
    with pytest.raises(uploads.UploadError):
        uploads.verify_card_photo(photo("p.jpg", data[: len(data) * 2 // 3]))


def test_a_photo_the_decoder_cannot_read_is_refused_when_it_is_re_encoded():
    """Scan data damaged inside a complete file passes the submission check (libjpeg itself
    decodes most such damage with a warning); what it cannot decode fails in `sanitize`."""
    import random

    data = bytearray(_textured_jpeg())
    scan = Image.open(io.BytesIO(bytes(data))).fp.tell()
    rnd = random.Random(0)
    for _ in range(200):
        data[rnd.randrange(scan + 100, len(data) - 1000)] = rnd.randrange(256)
    damaged = bytes(data)
    assert uploads.verify_card_photo(photo("card.jpg", damaged)) == damaged
    with pytest.raises(uploads.UploadError) as exc:
        uploads.sanitize(damaged)
    assert exc.value.code == "photo_corrupt"
