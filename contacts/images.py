"""Contact photos are shown as small avatars: store them small, upright and
without metadata (phone photos carry the GPS position in their EXIF).

Uploads are hostile until proven otherwise: only the formats we serve are
opened (never EPS, which would run Ghostscript), the pixel count is checked
from the header before anything is decoded (a few hundred KB of PNG can
claim 13,000 x 13,000 pixels, gigabytes once decoded), and every decoder
error becomes a form message.
"""

import uuid
import warnings
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

MAX_SIDE = 512
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; decoded at most ~160 MB


def invalid_image() -> ValidationError:
    return ValidationError(
        _("Send a valid image: a JPEG, PNG, WebP or GIF photo."), code="invalid_image"
    )


def open_image(upload) -> Image.Image:
    """Open an uploaded image for reading its header only, or raise a
    ValidationError: unknown or disallowed format, too many pixels, broken
    header."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_many_pixels() from None
    except Exception:  # Pillow raises many kinds for broken files
        raise invalid_image() from None
    if image.width * image.height > MAX_PIXELS:
        raise too_many_pixels()
    return image


def too_many_pixels() -> ValidationError:
    return ValidationError(
        _("The image is too large: send a photo of up to %(megapixels)d megapixels."),
        code="too_many_pixels",
        params={"megapixels": MAX_PIXELS // 1_000_000},
    )


def normalize_photo(upload) -> ContentFile:
    """Re-encode an uploaded image: EXIF rotation applied, at most MAX_SIDE
    pixels a side, metadata dropped; JPEG, or PNG when it has transparency.
    The stored name is random: the uploaded one is personal data, and may be
    longer in bytes than a file system allows."""
    image = open_image(upload)
    try:
        with image:
            # JPEG decodes straight at a fraction of the size: fast and small.
            image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
            output = BytesIO()
            if has_alpha:
                image.convert("RGBA").save(output, "PNG", optimize=True)
                suffix = ".png"
            else:
                image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
                suffix = ".jpg"
    except ValidationError:
        raise
    except Exception:  # truncated or corrupt data shows only when decoding
        raise invalid_image() from None
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}{suffix}")
