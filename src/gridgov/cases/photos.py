"""Photo attachments: checked by content, re-encoded without metadata, hashed.

Only JPEG, PNG and WebP are accepted, recognised by Pillow from the bytes (never from the
file name or the declared content type). The image is decoded, turned upright per its EXIF
orientation and encoded again without any metadata, so GPS positions, device serials and
the like in the original never reach storage. Refusals are ValidationFailed on "photos".
"""

import contextlib
import contextvars
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gridgov.core.errors import ValidationFailed

from .models import CaseAttachment

# Pillow format -> (content type, file extension)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
DEFAULT_MAX_PIXELS = 40_000_000  # a 50-megapixel phone photo downsized is far below this


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def _refuse(message, code):
    return ValidationFailed.field("photos", message, code=code)


def _read_limited(uploaded, limit):
    """The upload's bytes; too_large without reading more than limit + 1 bytes."""
    if isinstance(uploaded, (bytes, bytearray)):
        data = bytes(uploaded)
    else:
        if hasattr(uploaded, "seek"):
            uploaded.seek(0)
        data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise _refuse(_("The photo is larger than %(mb).1f MB.") % {"mb": limit / 1024 / 1024}, "too_large")
    if not data:
        raise _refuse(_("The file is empty."), "not_an_image")
    return data


def _open(data, max_pixels):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The photo has too many pixels."), "too_large") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise _refuse(_("The file is not an image."), "not_an_image") from None
    if image.format not in FORMATS:
        raise _refuse(_("Only JPEG, PNG and WebP photos are accepted."), "unsupported_type")
    width, height = image.size
    # Checked from the header, before decoding: a tiny file can claim gigapixels.
    if width * height > max_pixels:
        raise _refuse(_("The photo has too many pixels."), "too_large")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse(_("The image is damaged or incomplete."), "not_an_image") from None
    return image


def _encode(image, fmt):
    upright = ImageOps.exif_transpose(image)
    # Nothing from the original (EXIF, XMP, ICC, text chunks) is written again.
    upright.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif fmt == "WEBP" and upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() or "transparency" in image.info else "RGB")
    elif fmt == "PNG" and upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        upright = upright.convert("RGBA")
    buffer = io.BytesIO()
    options = {"JPEG": {"quality": 90, "optimize": True}, "WEBP": {"quality": 90}, "PNG": {"optimize": False}}[fmt]
    upright.save(buffer, format=fmt, **options)
    return upright, buffer.getvalue()


def prepare_photo(uploaded):
    """Validate and clean one upload (file-like or bytes) without touching storage."""
    limit = settings.GRIDGOV_MAX_PHOTO_BYTES
    data = _read_limited(uploaded, limit)
    image = _open(data, getattr(settings, "GRIDGOV_MAX_PHOTO_PIXELS", DEFAULT_MAX_PIXELS))
    fmt = image.format
    upright, content = _encode(image, fmt)
    content_type, extension = FORMATS[fmt]
    return PreparedPhoto(
        content=content,
        content_type=content_type,
        extension=extension,
        width=upright.width,
        height=upright.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def save_photo(prepared, *, case, kind, user, event=None):
    """Store a prepared photo and create its CaseAttachment row."""
    attachment = CaseAttachment(
        case=case,
        event=event,
        kind=kind,
        content_type=prepared.content_type,
        size=len(prepared.content),
        width=prepared.width,
        height=prepared.height,
        sha256=prepared.sha256,
        uploaded_by=user,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{prepared.extension}", ContentFile(prepared.content), save=False)
    _remember(attachment.file.storage, attachment.file.name)
    attachment.save()
    return attachment


def store_photo(uploaded, *, case, kind, user, event=None):
    """Validate, clean and store one photo of `case` (contract in docs/contracts.md)."""
    return save_photo(prepare_photo(uploaded), case=case, kind=kind, user=user, event=event)


# -- files written inside a transaction that then fails --------------------------------
_written = contextvars.ContextVar("gridgov_photos_written", default=None)


def _remember(storage, name):
    written = _written.get()
    if written is not None:
        written.append((storage, name))


@contextlib.contextmanager
def delete_files_on_error():
    """Delete the photos stored inside the block when it raises (their rows roll back too).

    Wrap it around `transaction.atomic()`. Files of a block that succeeds pass to an
    enclosing block, so an outer failure removes them as well.
    """
    written = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    finally:
        _written.reset(token)
    outer = _written.get()
    if outer is not None:
        outer.extend(written)
