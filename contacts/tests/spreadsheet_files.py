"""Spreadsheet files for the import and export tests: real .xlsx written
with XlsxWriter (as Excel stores cells), CSV in the encodings Brazilian
teams have, and a corpus of hostile and broken files."""

import io
import zipfile
from datetime import date, datetime

import xlsxwriter


def xlsx(rows, *, dates=False, merge=None) -> bytes:
    """An .xlsx with `rows` written as Excel would keep them: numbers as
    numbers, dates as date cells, text as text (never a formula)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, (date, datetime)):
                sheet.write_datetime(r, c, datetime.combine(value, datetime.min.time()) if isinstance(value, date) and not isinstance(value, datetime) else value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    if merge:
        sheet.merge_range(*merge, "mesclado")
    workbook.close()
    return buffer.getvalue()


def csv_bytes(rows, *, delimiter=";", encoding="utf-8-sig") -> bytes:
    return "\r\n".join(delimiter.join(str(cell) for cell in row) for row in rows).encode(encoding)


def upload(content: bytes, name="contatos.xlsx"):
    file = io.BytesIO(content)
    file.name = name
    return file


def zip_with(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def sheet_xml(rows: str, dimension="A1:B2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def minimal_xlsx(sheet: bytes, extra: dict | None = None) -> bytes:
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/workbook.xml": WORKBOOK,
        "xl/worksheets/sheet1.xml": sheet,
    }
    parts.update(extra or {})
    return zip_with(parts)


def inline_row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>' for i, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


GOOD_HEADER = inline_row(1, "Nome", "Telefone")
GOOD_ROW = inline_row(2, "Maria", "11987654321")


def hostile_files() -> dict[str, bytes]:
    """Files that must be refused with a message, or import nothing wrong:
    none of them may cause a server error or write a contact."""
    good = xlsx([["Nome", "Telefone"], ["Maria", "11987654321"]])
    files = {
        "empty": b"",
        "one space": b" ",
        "blank lines": b"\r\n\r\n\r\n",
        "only a header": csv_bytes([["Nome", "Telefone"]]),
        "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj",
        "jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 200,
        "random bytes": bytes(range(256)) * 20,
        "nul bytes": b"\x00" * 4096,
        "old xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000,
        "password protected": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100,
        "truncated xlsx": good[: len(good) // 2],
        "xlsx first bytes only": good[:30],
        "zip of text": zip_with({"hello.txt": b"hello"}),
        "zip without a sheet": zip_with({"xl/workbook.xml": WORKBOOK}),
        "empty zip": zip_with({}),
        "docx-like zip": zip_with({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}),
        "xml entity bomb": minimal_xlsx(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
        ),
        "external entity": minimal_xlsx(
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
        ),
        "entity in workbook.xml": minimal_xlsx(
            sheet_xml(GOOD_HEADER + GOOD_ROW),
            {"xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "b">]>' + WORKBOOK[WORKBOOK.index(b"<workbook") :]},
        ),
        # Tests lower IMPORT_MAX_UNPACKED_BYTES to 20 MB: this unpacks to 30.
        "zip bomb": zip_with({"xl/workbook.xml": WORKBOOK, "xl/worksheets/sheet1.xml": b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>"}),
        "sheet that is not xml": minimal_xlsx(b"this is not xml at all <<<"),
        "sheet cut in the middle": minimal_xlsx(sheet_xml(GOOD_HEADER + GOOD_ROW)[:-40]),
        "formula without value": minimal_xlsx(
            sheet_xml(GOOD_HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="B2"><f>CONCAT("11","987654321")</f></c></row>')
        ),
        "merged cells": xlsx([["Nome", "Telefone"], ["Maria", "11987654321"]], merge=(2, 0, 3, 1)),
        "headers only in xlsx": xlsx([["Nome", "Telefone"]]),
        "no header text": xlsx([[1, 2], [3, 4]]),
        "million blank rows": csv_bytes([["Nome", "Telefone"]] + [[""] * 2] * 1_000_000),
        "binary csv": b"Nome;Telefone\r\n\x00\x01\x02\x03;\xff\xfe\r\n",
        "unterminated quote": b'Nome;Telefone\r\n"Maria;11987654321\r\n',
        "very long line": b"Nome;Telefone\r\n" + b"A" * 2_000_000 + b";1\r\n",
        "one column no identity": csv_bytes([["Nome"], ["Maria"], ["Jo\u00e3o"]]),
        "unknown headers only": csv_bytes([["Cor", "Fruta"], ["azul", "ma\u00e7\u00e3"]]),
        "bad phones only": csv_bytes([["Nome", "Telefone"], ["A", "123"], ["B", "abc"], ["C", "+1"]]),
        "bad documents only": csv_bytes([["Nome", "CPF"], ["A", "111.111.111-11"], ["B", "123"]]),
        "bad emails only": csv_bytes([["Nome", "E-mail"], ["A", "x@"], ["B", "@y"], ["C", "a b@c.d"]]),
        "bad dates only": csv_bytes([["Nome", "Telefone", "Nascimento"], ["A", "11987654321", "31/02/1990"], ["B", "11987654322", "amanhã"]]),
        "future birth date": csv_bytes([["Nome", "Telefone", "Nascimento"], ["A", "11987654321", "01/01/2999"]]),
        "unknown wallet": csv_bytes([["Nome", "Telefone", "Carteira"], ["A", "11987654321", "Carteira Que Não Existe"]]),
        "name too long": csv_bytes([["Nome", "Telefone"], ["A" * 300, "11987654321"]]),
        "huge telegram id": csv_bytes([["Nome", "Id Telegram"], ["A", "9" * 30]]),
        "control characters only": csv_bytes([["Nome", "Telefone"], ["\x01\x02", "\x03"]]),
        "formula-looking phone": csv_bytes([["Nome", "Telefone"], ["A", "=1+1"]]),
        "html": b"<html><body><table><tr><td>Nome</td></tr></table></body></html>",
        "json": b'{"Nome": "Maria", "Telefone": "11987654321"}',
        "rtf": b"{\\rtf1\\ansi Nome Telefone}",
        "gzip": b"\x1f\x8b\x08\x00" + b"\x00" * 100,
        "ole junk": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4,
        "xlsx with huge shared strings": minimal_xlsx(
            sheet_xml(GOOD_HEADER), {"xl/sharedStrings.xml": b"<sst>" + b"<si><t>x</t></si>" * 10 + b"</sst>"}
        ),
    }
    return files


def lying_dimension_files() -> dict[str, bytes]:
    """Sheets whose declared size is wrong: read whole anyway."""
    return {
        "declared smaller": minimal_xlsx(sheet_xml(GOOD_HEADER + GOOD_ROW, dimension="A1:A1")),
        "declared huge": minimal_xlsx(sheet_xml(GOOD_HEADER + GOOD_ROW, dimension="A1:XFD1048576")),
    }
