"""Real small files, made here, as customers send them: a voice note (Ogg
Opus, as WhatsApp records them), a photo (JPEG), a PDF; and hostile ones.
Each is a file its own kind of reader opens: the voice note plays in a
browser and reports its duration, the photo opens in Pillow."""

import io
import random
import struct
import zipfile
import zlib
from functools import cache

from PIL import Image, ImageDraw

# Ogg's CRC-32 (polynomial 0x04C11DB7, no reflection): not zlib's.
_CRC_TABLE = []
for _byte in range(256):
    _crc = _byte << 24
    for _ in range(8):
        _crc = ((_crc << 1) ^ 0x04C11DB7) if _crc & 0x80000000 else (_crc << 1)
    _CRC_TABLE.append(_crc & 0xFFFFFFFF)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def _ogg_page(packets: list[bytes], *, granule: int, sequence: int, flags: int, serial: int = 0x0C0FFEE) -> bytes:
    lacing = []
    for packet in packets:
        lacing += [255] * (len(packet) // 255) + [len(packet) % 255]
    header = b"OggS" + bytes([0, flags]) + struct.pack("<qIII", granule, serial, sequence, 0) + bytes([len(lacing), *lacing])
    page = header + b"".join(packets)
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


# A 20 ms CELT frame of silence (what voice chat clients send when quiet).
_OPUS_SILENCE = b"\xf8\xff\xfe"
_PRE_SKIP = 312


@cache
def voice_note(seconds: int = 3) -> bytes:
    """An Ogg Opus voice note of `seconds` of silence, 48 kHz mono."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", _PRE_SKIP, 48000, 0, 0)
    vendor = b"contacts-portal tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_ogg_page([head], granule=0, sequence=0, flags=2), _ogg_page([tags], granule=0, sequence=1, flags=0)]
    frames_per_page, samples = 50, _PRE_SKIP
    for second in range(seconds):
        samples += frames_per_page * 960
        last = second == seconds - 1
        pages.append(_ogg_page([_OPUS_SILENCE] * frames_per_page, granule=samples, sequence=2 + second, flags=4 if last else 0))
    return b"".join(pages)


@cache
def photo(width: int = 320, height: int = 240) -> bytes:
    """A JPEG photo of a receipt."""
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, width - 20, height - 20], outline=(40, 40, 40), width=3)
    for row in range(5):
        draw.line([40, 50 + row * 30, width - 40, 50 + row * 30], fill=(90, 90, 200), width=4)
    draw.text((40, height - 50), "TOTAL R$ 123,45", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@cache
def pdf() -> bytes:
    """A one-page PDF ("Boleto")."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = b"BT /F1 18 Tf 40 70 Td (Boleto) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@cache
def zip_bomb(unpacked_mb: int = 200) -> bytes:
    """A zip named like a Word document whose one member unpacks to
    `unpacked_mb` megabytes of zeros (about a thousand times its size)."""
    out = io.BytesIO()
    zero = bytes(1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(unpacked_mb):
                member.write(zero)
    return out.getvalue()


@cache
def mp3(seconds: int = 1) -> bytes:
    """An MP3 of `seconds` of silence: MPEG-1 Layer III frames at 128 kbit/s,
    44.1 kHz, whose side information and data are all zero (each decodes to
    1,152 samples of silence)."""
    frame = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)
    return frame * (seconds * 44100 // 1152 + 1)


def mp4_header() -> bytes:
    """The start of an MP4 video (its "ftyp" box): what the type of a file
    is read from. Not a video that plays."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(64)


@cache
def large_photo(width: int = 1600, height: int = 1200) -> bytes:
    """A JPEG photo of several hundred kilobytes (noise does not compress)."""
    image = Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def pixel_bomb(side: int = 30000) -> bytes:
    """A PNG of a few hundred kilobytes that declares `side` × `side`
    pixels (900 million: gigabytes once decoded)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(3 * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"tEXt", b"Comment\x00" + b"x" * 200_000)
        + _png_chunk(b"IDAT", zlib.compress(row * 16))
        + _png_chunk(b"IEND", b"")
    )
