"""An .xlsx checked as an archive before any parser sees it: what each
part really unpacks to, local and central headers that agree, no DOCTYPE."""

import struct
import zipfile
import zlib

from django.conf import settings
from django.utils.translation import gettext as _

from .tables import CHUNK, SpreadsheetError


ZIP_SIGNATURE = b"PK\x03\x04"


def _damaged() -> SpreadsheetError:
    return SpreadsheetError(_("The file is damaged or incomplete: it is not a spreadsheet that can be read."))


def _too_large() -> SpreadsheetError:
    return SpreadsheetError(_("The spreadsheet unpacks to more data than is accepted; split it into smaller files."))


def _refuse_doctype(*args) -> None:
    # Entity definitions live in a DOCTYPE: no spreadsheet has one.
    raise SpreadsheetError(_("The spreadsheet contains something that is not accepted (a document type definition)."))


LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _check_archive(file, members: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive that unpacks to more than IMPORT_MAX_UNPACKED_BYTES,
    counting what each part really unpacks to (its headers may understate
    it: a reader that follows the data, not the headers, would get the
    rest), or whose local and central headers disagree, or with a part
    that starts with a DOCTYPE (the parser refuses one anywhere); before
    any XML is parsed."""
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if len(members) > 5000 or sum(member.file_size for member in members) > limit:
        raise _too_large()
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    room = limit
    for member in members:
        size, prolog = _unpack(file, member, room)
        room -= size
        if member.filename.endswith((".xml", ".rels")) and (b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog):
            _refuse_doctype()


def _unpack(file, member: zipfile.ZipInfo, room: int) -> tuple[int, bytes]:
    """What a part really unpacks to, decompressed in pieces and given up as
    soon as it is more than `room`; and its first bytes."""
    file.seek(member.header_offset)
    header = file.read(LOCAL_HEADER.size)
    if len(header) != LOCAL_HEADER.size:
        raise _damaged()
    signature, _version, flags, method, _time, _date, crc, compressed, size, name_length, extra_length = LOCAL_HEADER.unpack(header)
    if signature != ZIP_SIGNATURE or flags & 1 or method != member.compress_type or name_length != len(member.orig_filename.encode("utf-8" if flags & 0x800 else "cp437")):
        raise _damaged()
    if not flags & 0x08:  # sizes in the local header, not in a descriptor after the data
        declared = [(crc, member.CRC)] + [(local, central) for local, central in ((compressed, member.compress_size), (size, member.file_size)) if local != 0xFFFFFFFF]
        if any(local != central for local, central in declared):
            raise _damaged()
    file.seek(member.header_offset + LOCAL_HEADER.size + name_length + extra_length)
    if method == zipfile.ZIP_STORED:
        if member.compress_size != member.file_size:
            raise _damaged()
        if member.file_size > room:
            raise _too_large()
        return member.file_size, file.read(min(member.file_size, 4096))
    if method != zipfile.ZIP_DEFLATED:
        raise _damaged()  # Excel deflates; other methods are for other programs
    # The deflate stream is followed to its own end, whatever the headers
    # say its compressed size is.
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, prolog = 0, b""
    while not decompressor.eof:
        data = decompressor.unconsumed_tail or file.read(CHUNK)
        if not data:
            break
        out = decompressor.decompress(data, CHUNK)
        produced += len(out)
        if produced > room:
            raise _too_large()
        if len(prolog) < 4096:
            prolog += out[: 4096 - len(prolog)]
    if not decompressor.eof or produced != member.file_size:
        raise _damaged()
    return produced, prolog
