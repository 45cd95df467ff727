"""Photo uploads are hostile until proven otherwise: every bad file is a
form message, nothing is written, and nothing costly is decoded."""

import io
import time
import zlib
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from contacts.models import Contact
from contacts.tests.test_contact_form import form_data, png

pytestmark = pytest.mark.django_db

CREATE = reverse("contacts:create")


def huge_png(side=13_000) -> bytes:
    """A valid PNG that claims side x side pixels but weighs a few hundred KB
    (one colour compresses to almost nothing)."""
    raw_row = b"\x00" + b"\x00" * side
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(raw_row) for _ in range(side)) + compressor.flush()

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def post_photo(client, content: bytes, name="foto.png"):
    upload = SimpleUploadedFile(name, content)
    return client.post(CREATE, {**form_data(), "photo": upload})


def test_a_small_file_that_decodes_to_a_huge_bitmap_is_refused_without_decoding_it(admin_client):
    content = huge_png()
    assert len(content) < 1_000_000
    started = time.perf_counter()
    response = post_photo(admin_client, content)
    assert time.perf_counter() - started < 2
    assert "no máximo 40 megapixels" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_truncated_image_is_a_message_not_an_error(admin_client):
    buffer = io.BytesIO()
    Image.effect_noise((400, 400), 64).convert("RGB").save(buffer, "JPEG")
    response = post_photo(admin_client, buffer.getvalue()[:2000], "foto.jpg")
    assert response.status_code == 200
    assert "Envie uma imagem válida" in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",  # would run Ghostscript
        b"BM" + b"\x00" * 60,  # BMP: not a format we serve
        b"GIF89a\x01\x00",  # a GIF cut inside its header
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        b"",
    ],
    ids=["eps", "bmp", "short-gif", "broken-png", "empty"],
)
def test_other_formats_and_broken_headers_are_refused(admin_client, content):
    response = post_photo(admin_client, content)
    assert response.status_code == 200
    assert not Contact.objects.exists()


def test_a_file_name_of_four_byte_characters_is_stored_under_a_short_name(admin_client):
    upload = png()
    upload.name = "😀" * 200 + ".png"
    response = admin_client.post(CREATE, {**form_data(), "photo": upload})
    assert response.status_code == 302
    photo = Contact.objects.get().photo
    assert len(photo.name.rsplit("/", 1)[-1].encode()) < 60
    assert photo.storage.exists(photo.name)


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "GIF"])
def test_every_allowed_format_is_accepted(admin_client, kind):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "#25d366").save(buffer, kind)
    response = post_photo(admin_client, buffer.getvalue(), f"foto.{kind.lower()}")
    assert response.status_code == 302
    assert Contact.objects.get().photo
