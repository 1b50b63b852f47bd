"""Photo uploads: type by content, size and pixel limits, EXIF stripped, upright, hashed."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.cases.models import CaseAttachment
from gridgov.cases.photos import prepare_photo, store_photo
from gridgov.core.errors import ValidationFailed

from .conftest import image_bytes, noise_image_bytes, stored_files

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_exif(size=(60, 40), orientation=None):
    image = Image.new("RGB", size, (10, 120, 200))
    image.paste((255, 255, 255), (0, 0, 12, 12))  # a marker in the top-left corner
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Camera 1.0"  # Software
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (36.0, 40.0, 12.0), 3: "E", 4: (117.0, 0.0, 18.0)})
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def refusal_code(data, **kwargs):
    with pytest.raises(ValidationFailed) as refusal:
        prepare_photo(data, **kwargs)
    assert list(refusal.value.fields) == ["photos"]
    return refusal.value.code


@pytest.mark.parametrize(("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_accepted_formats(fmt, content_type):
    photo = prepare_photo(image_bytes(fmt, size=(30, 20)))
    assert (photo.content_type, photo.width, photo.height) == (content_type, 30, 20)
    assert photo.sha256 == hashlib.sha256(photo.content).hexdigest()
    assert Image.open(io.BytesIO(photo.content)).format == fmt


def test_png_transparency_survives():
    photo = prepare_photo(image_bytes("PNG", color=(1, 2, 3, 0), alpha=True))
    assert Image.open(io.BytesIO(photo.content)).mode == "RGBA"


def test_type_is_read_from_the_content_not_the_name():
    disguised = SimpleUploadedFile("photo.jpg", b"<?php echo 'hi'; ?>", content_type="image/jpeg")
    assert refusal_code(disguised) == "not_an_image"
    png_named_jpg = SimpleUploadedFile("photo.jpg", image_bytes("PNG"), content_type="image/jpeg")
    assert prepare_photo(png_named_jpg).content_type == "image/png"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_types_are_unsupported(fmt):
    assert refusal_code(image_bytes(fmt)) == "unsupported_type"


def test_empty_and_truncated_files_are_not_images():
    assert refusal_code(b"") == "not_an_image"
    assert refusal_code(image_bytes("PNG", size=(300, 300))[:200]) == "not_an_image"


def test_file_size_limit(settings):
    data = noise_image_bytes("PNG", size=(100, 100))
    settings.GRIDGOV_MAX_PHOTO_BYTES = len(data) - 1
    assert refusal_code(data) == "too_large"
    settings.GRIDGOV_MAX_PHOTO_BYTES = len(data)
    assert prepare_photo(data).width == 100


def small_file_with_many_pixels(width, height):
    buffer = io.BytesIO()
    Image.new("1", (width, height), 0).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decompression_bomb_is_refused_before_decoding(settings):
    # 64 megapixels in a few kilobytes: below Pillow's own alarm, above our limit.
    bomb = small_file_with_many_pixels(8000, 8000)
    assert len(bomb) < 100_000
    settings.GRIDGOV_MAX_PHOTO_PIXELS = 50_000_000
    assert refusal_code(bomb) == "too_large"
    settings.GRIDGOV_MAX_PHOTO_PIXELS = 70_000_000
    assert prepare_photo(bomb).width == 8000


def test_pillow_bomb_alarm_is_a_refusal_too(settings):
    settings.GRIDGOV_MAX_PHOTO_PIXELS = 10**12  # only Pillow's own limit remains
    assert refusal_code(small_file_with_many_pixels(12000, 12000)) == "too_large"


def test_exif_and_gps_are_removed():
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    photo = prepare_photo(original)
    cleaned = Image.open(io.BytesIO(photo.content))
    assert len(cleaned.getexif()) == 0
    assert b"PhoneMaker" not in photo.content and b"Exif" not in photo.content


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_metadata_is_removed_from_png_and_webp(fmt):
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    options = {"exif": exif, "xmp": b"<x:xmpmeta>secret-place</x:xmpmeta>"}
    if fmt == "PNG":
        options["pnginfo"] = PngImagePlugin.PngInfo()
        options["pnginfo"].add_text("Comment", "secret-place")
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(buffer, format=fmt, **options)
    assert b"PhoneMaker" in buffer.getvalue()
    photo = prepare_photo(buffer.getvalue())
    assert b"PhoneMaker" not in photo.content and b"secret-place" not in photo.content
    assert len(Image.open(io.BytesIO(photo.content)).getexif()) == 0


def test_orientation_is_applied_before_stripping():
    # Orientation 6: the camera held sideways; the upright picture is 40 wide, 60 high.
    photo = prepare_photo(jpeg_with_exif(size=(60, 40), orientation=6))
    assert (photo.width, photo.height) == (40, 60)
    upright = Image.open(io.BytesIO(photo.content))
    assert upright.size == (40, 60)
    assert upright.getpixel((35, 4))[0] > 200  # the marker moved to the top-right corner
    assert upright.getpixel((4, 4))[0] < 100


@pytest.mark.django_db
def test_store_photo_writes_file_and_row(flow, staff, media):
    case = flow.new()
    upload = SimpleUploadedFile("x.webp", image_bytes("WEBP"), content_type="image/webp")
    attachment = store_photo(upload, case=case, kind="evidence", user=staff.handler)
    attachment = CaseAttachment.objects.get(pk=attachment.pk)
    assert attachment.case == case and attachment.kind == "evidence" and attachment.uploaded_by == staff.handler
    assert attachment.file.name.startswith("cases/") and attachment.file.name.endswith(".webp")
    assert "x.webp" not in attachment.file.name
    files = stored_files(media)
    assert len(files) == 1 and hashlib.sha256(files[0].read_bytes()).hexdigest() == attachment.sha256
    assert attachment.size == files[0].stat().st_size


@pytest.mark.django_db
def test_store_photo_refusal_writes_nothing(flow, staff, media):
    case = flow.new()
    with pytest.raises(ValidationFailed):
        store_photo(b"not an image", case=case, kind="evidence", user=staff.handler)
    assert stored_files(media) == [] and not CaseAttachment.objects.exists()
