"""Contact photos are shown as small avatars: store them small, upright and
without metadata (phone photos carry the GPS position in their EXIF)."""

from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

MAX_SIDE = 512


def normalize_photo(upload) -> ContentFile:
    """Re-encode an uploaded image: EXIF rotation applied, at most MAX_SIDE
    pixels a side, metadata dropped; JPEG, or PNG when it has transparency."""
    upload.seek(0)
    with Image.open(upload) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        output = BytesIO()
        if has_alpha:
            image.convert("RGBA").save(output, "PNG", optimize=True)
            suffix = ".png"
        else:
            image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
            suffix = ".jpg"
    return ContentFile(output.getvalue(), name=Path(upload.name).stem[:80] + suffix)
