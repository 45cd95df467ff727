"""Spreadsheet files for the import and export tests: real .xlsx written
with XlsxWriter (as Excel stores cells), CSV in the encodings Brazilian
teams have, and a corpus of hostile and broken files."""

import io
import itertools
import zipfile
from collections.abc import Iterable
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
    none of them may cause a server error or write a contact. (A row with
    a wrong optional cell, a birth date or a name too long, is imported
    without it: see test_import_cells.)"""
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
        "unknown wallet": csv_bytes([["Nome", "Telefone", "Carteira"], ["A", "11987654321", "Carteira Que Não Existe"]]),
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


# The probe's files: what a hostile or careless file does to the reader's
# memory, generated as raw XML written into the archive (fast, at any size).


def raw_xlsx(rows: Iterable[str] | bytes, *, shared_strings: Iterable[str] | bytes | None = None, dimension="A1", level: int = 1) -> bytes:
    """An .xlsx whose first sheet's <sheetData> is `rows` (XML text, written
    piece by piece) and whose shared strings are `shared_strings`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in minimal_parts().items():
            archive.writestr(name, data)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=False) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + f'<dimension ref="{dimension}"/><sheetData>'.encode()
            )
            _write_pieces(part, rows)
            part.write(b"</sheetData></worksheet>")
        if shared_strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=False) as part:
                part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                _write_pieces(part, shared_strings)
                part.write(b"</sst>")
    return buffer.getvalue()


def _write_pieces(part, pieces) -> None:
    if isinstance(pieces, bytes):
        part.write(pieces)
        return
    batch = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) == 10_000:
            part.write("".join(batch).encode())
            batch = []
    part.write("".join(batch).encode())


def minimal_parts() -> dict[str, bytes]:
    relationships = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>"
    )
    return {"xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": relationships}


def far_cell_file() -> bytes:
    """Two cells, the second at the sheet's far corner: read as a grid, 17
    billion cells."""
    return raw_xlsx(inline_row(1, "Nome", "Telefone") + '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')


def wide_file(columns: int = 16_384) -> bytes:
    """A header naming every one of Excel's 16,384 columns."""
    header = "".join(f'<c r="{column_letters(n)}1" t="inlineStr"><is><t>Coluna {n}</t></is></c>' for n in range(columns))
    return raw_xlsx([f'<row r="1">{header}</row>', inline_row(2, "Maria", "11987654321")])


def wide_empty_file() -> bytes:
    """Three columns with data in a sheet 16,384 columns wide: a value at
    its last column, and the cells between styled but empty."""
    empty = "".join(f'<c r="{column_letters(n)}1" s="0"/>' for n in range(3, 16_383))
    return raw_xlsx(
        [
            f'<row r="1"><c r="A1" t="inlineStr"><is><t>Nome</t></is></c><c r="B1" t="inlineStr"><is><t>Telefone</t></is></c>{empty}</row>',
            '<row r="2"><c r="A2" t="inlineStr"><is><t>Maria</t></is></c><c r="B2" t="inlineStr"><is><t>11987654321</t></is></c>'
            '<c r="XFD2" t="inlineStr"><is><t>nota</t></is></c></row>',
        ]
    )


def million_rows_file(rows: int = 1_000_000) -> bytes:
    """A million rows with data, within the unpacked cap, over the row cap."""
    return raw_xlsx(
        [inline_row(1, "Nome", "Telefone")]
        + [f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>P{n}</t></is></c><c r="B{n}"><v>{11900000000 + n}</v></c></row>' for n in range(2, rows + 2)]
    )


def shared_strings_file(count: int = 4_000_000) -> bytes:
    """Four million shared strings, a few rows that use them (the last one too)."""
    rows = [
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
        f'<row r="2"><c r="A2" t="s"><v>{count - 1}</v></c><c r="B2"><v>11987654321</v></c></row>',
    ]
    return raw_xlsx(rows, shared_strings=["<si><t>Nome</t></si><si><t>Telefone</t></si>"] + [f"<si><t>Pessoa {n}</t></si>" for n in range(2, count)])


def unreferenced_cells_file(count: int = 10_000_000) -> bytes:
    """A row of `count` cells without a reference, each one more column:
    1.6 MB that unpacks to 150 MB, a row as wide as nothing can be."""
    cells = itertools.repeat("<c><v>1</v></c>", count)
    return raw_xlsx(itertools.chain([inline_row(1, "Nome", "Telefone"), '<row r="2">'], cells, ["</row>"]))


def large_shared_strings_file(megabytes: int = 300) -> bytes:
    """A table of strings of `megabytes` (within the unpacked cap), a cell's
    longest each, and a row that uses the first and the last."""
    count = megabytes * 1024 * 1024 // 32_000
    strings = (f"<si><t>{n:08d}{'a' * 31_992}</t></si>" for n in range(count))
    rows = [inline_row(1, "Nome", "Telefone"), f'<row r="2"><c r="A2" t="s"><v>{count - 1}</v></c><c r="B2"><v>11987654321</v></c></row>']
    return raw_xlsx(rows, shared_strings=strings)


def fullest_file(rows: int, extra_columns: int) -> bytes:
    """Every field of a contact filled with a value no other row has (name,
    number, e-mail, CPF, Telegram id, company, first and last names; a
    birth date and tags), and `extra_columns` columns of additional
    information, a different value in every cell."""
    def text(reference: str, value: str) -> str:
        return f'<c r="{reference}" t="inlineStr"><is><t>{value}</t></is></c>'

    def cpf(n: int) -> str:
        digits = [int(d) for d in f"{n * 37 % 10**9:09d}"]
        for weights in (range(10, 1, -1), range(11, 1, -1)):
            digits.append(sum(d * w for d, w in zip(digits, weights)) * 10 % 11 % 10)
        return "".join(map(str, digits))

    extras = [f"Código {c}" for c in range(1, extra_columns + 1)]
    header = inline_row(1, "Nome", "Celular", "E-mail", "CPF", "Telegram", "Empresa", "Primeiro nome", "Sobrenome", "Nascimento", "Etiquetas", *extras)

    def row(n: int) -> str:
        cells = [
            text(f"A{n}", f"Pessoa Número {n:07d} da Silva"),
            f'<c r="B{n}"><v>{11_900_000_000 + n}</v></c>',
            text(f"C{n}", f"pessoa.{n}@exemplo{n % 1000}.com.br"),
            text(f"D{n}", cpf(n)),
            text(f"E{n}", str(10_000_000 + n)),
            text(f"F{n}", f"Empresa {n:07d} Ltda"),
            text(f"G{n}", f"Pessoa{n:07d}"),
            text(f"H{n}", f"Silva{n:07d}"),
            text(f"I{n}", f"{n % 28 + 1:02d}/{n % 12 + 1:02d}/{1940 + n % 67}"),
            text(f"J{n}", ("VIP", "Cliente, Lead", "Fornecedor")[n % 3]),
            *(text(f"{column_letters(10 + c)}{n}", f"CLI{c}-{n:07d}") for c in range(extra_columns)),
        ]
        return f'<row r="{n}">' + "".join(cells) + "</row>"

    return raw_xlsx(itertools.chain([header], (row(n) for n in range(2, rows + 2))))


def dense_file(rows: int = 200_000, columns: int = 50) -> bytes:
    """As many cells as the caps accept (IMPORT_MAX_ROWS rows, IMPORT_MAX_CELLS
    cells): 626 KB that unpacks to 160 MB."""
    letters = [column_letters(n) for n in range(columns)]
    header = "".join(f'<c r="{letter}1" t="inlineStr"><is><t>C{letter}</t></is></c>' for letter in letters)
    body = (f'<row r="{n}">' + "".join(f'<c r="{letter}{n}" t="s"><v>0</v></c>' for letter in letters) + "</row>" for n in range(2, rows + 1))
    return raw_xlsx(itertools.chain([f'<row r="1">{header}</row>'], body), shared_strings=["<si><t>11987654321</t></si>"])


def realistic_file(rows: int = 200_000) -> bytes:
    """Contacts as a desk's real sheet has them, as many rows as the row
    cap accepts: a name (first, middle and last: few repeat), a mobile
    number (half stored as numbers, as Excel keeps one typed in), an
    e-mail, a valid CPF in half the rows, a birth date as text, tags and a
    job title. Every other birth date cannot be a date (30/02): those rows
    are imported with a warning, their cells kept for the error report.
    Made by arithmetic on the row's number, not drawn: a random draw per
    cell took most of the time."""
    from contacts.demo import FIRST_NAMES, LAST_NAMES
    from contacts.normalizers import fold

    firsts = [(name, fold(name)) for name in FIRST_NAMES]
    tags = ["", "VIP", "Cliente, Lead", "Fornecedor"]
    titles = ["", "Gerente", "Analista", "Diretora", "Estagiário", "Vendedor"]

    def cpf(n: int) -> str:
        digits = [int(d) for d in f"{n * 37 % 10**9:09d}"]
        for weights in (range(10, 1, -1), range(11, 1, -1)):
            digits.append(sum(d * w for d, w in zip(digits, weights)) * 10 % 11 % 10)
        text = "".join(map(str, digits))
        return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"

    def text(column: str, n: int, value: str) -> str:
        return f'<c r="{column}{n}" t="inlineStr"><is><t>{value}</t></is></c>' if value else ""

    def row(n: int) -> str:
        (first, folded), middle, last = firsts[n % len(firsts)], LAST_NAMES[n // 7 % len(LAST_NAMES)], LAST_NAMES[n // 311 % len(LAST_NAMES)]
        number = f"55119{n * 7919 % 10**8:08d}"
        phone = f'<c r="B{n}"><v>{number}</v></c>' if n % 2 else text("B", n, number)
        return (
            f'<row r="{n}">{text("A", n, f"{first} {middle} {last}")}{phone}{text("C", n, f"{folded}.{n}@exemplo.com")}'
            f'{text("D", n, cpf(n) if n % 2 else "")}{text("E", n, f"{30 if n % 2 == 0 else n % 28 + 1:02d}/{2 if n % 2 == 0 else n % 12 + 1:02d}/{1940 + n % 67}")}'
            f"{text('F', n, tags[n % 4])}{text('G', n, titles[n % 6])}</row>"
        )

    header = inline_row(1, "Nome", "Telefone", "E-mail", "CPF", "Nascimento", "Etiquetas", "Cargo")
    return raw_xlsx(itertools.chain([header], (row(n) for n in range(2, rows + 2))), dimension=f"A1:G{rows + 1}")


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def lying_headers_file(lie: str, *, real_size: int = 30 * 1024 * 1024) -> bytes:
    """An .xlsx whose sheet unpacks to `real_size` while its zip headers say
    less: "both" headers understate the unpacked size, "compressed" they
    understate the compressed size too, "central" only the central
    directory does (the local header tells the truth); "none" is the file
    as written."""
    padding = " " * 1000
    rows = [inline_row(1, "Nome", "Telefone")] + [padding] * (real_size // 1000)
    content = bytearray(raw_xlsx(rows))
    if lie == "none":
        return bytes(content)
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    central = _central_entry(content, b"xl/worksheets/sheet1.xml")
    local = member.header_offset
    if lie in ("both", "compressed"):
        content[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    content[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    if lie == "compressed":
        content[local + 18 : local + 22] = (500).to_bytes(4, "little")
        content[central + 20 : central + 24] = (500).to_bytes(4, "little")
    return bytes(content)


def _central_entry(content: bytearray, name: bytes) -> int:
    position = content.index(b"PK\x05\x06")
    start = int.from_bytes(content[position + 16 : position + 20], "little")
    while content[start : start + 4] == b"PK\x01\x02":
        length = int.from_bytes(content[start + 28 : start + 30], "little")
        extra = int.from_bytes(content[start + 30 : start + 32], "little")
        comment = int.from_bytes(content[start + 32 : start + 34], "little")
        if content[start + 46 : start + 46 + length] == name:
            return start
        start += 46 + length + extra + comment
    raise LookupError(name)
