"""A sheet's rows written the plain way are read by patterns, the others by
the parser (contacts/transfer/reading/xlsx.py, _PlainRows): whichever way
a file is written, what is read is what the parser alone reads, and a file
the parser refuses is refused."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.tests.spreadsheet_files import hostile_files, inline_row, lying_dimension_files, minimal_xlsx, realistic_file, sheet_xml, upload, xlsx
from contacts.transfer.reading import SpreadsheetError, read_table
from contacts.transfer.reading import xlsx as xlsx_reading


def read(content: bytes):
    try:
        table = read_table(upload(content))
        return table.headers, list(table.rows), dict(table.row_errors)
    except SpreadsheetError as error:
        return "refused", str(error)


def read_by_the_parser_alone(content: bytes, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(xlsx_reading._PlainRows, "feed", lambda self, chunk: self.parser.Parse(chunk, not chunk))
        return read(content)


def sheet(rows: str, head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return minimal_xlsx(
        f'{head}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'.encode(
            "utf-8" if "8859" not in head else "latin-1"
        )
    )


HEADER = inline_row(1, "Nome", "Telefone")
WRITTEN_OTHERWISE = {
    "plain": HEADER + inline_row(2, "Maria", "11987654321"),
    "a self-closing row and cell": HEADER + '<row r="2"/><row r="3"><c r="A3" s="1"/><c r="B3"><v>11987654321</v></c></row>',
    "attributes in another order": HEADER + '<row r="2"><c t="inlineStr" r="A2"><is><t>Ana</t></is></c></row>' + inline_row(3, "Bia", "2"),
    "a formula": HEADER + '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row><row r="3"><c r="A3"><f>1+1</f><v/></c></row>' + inline_row(4, "Bia"),
    "rich text": HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><r><t>Ma</t></r><r><t>ria</t></r></is></c></row>',
    "references": HEADER + inline_row(2, "Jo&amp;&#227;o &lt;b&gt;", "1") + inline_row(3, "Ana"),
    "a line break": HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>a\r\nb\rc</t></is></c></row>',
    "a comment that closes a row": HEADER + '<row r="2"><!-- </row> --><c r="A2" t="inlineStr"><is><t>Ana</t></is></c></row>' + inline_row(3, "Bia"),
    "a comment between rows": HEADER + "<!-- <row r='9'/> -->" + inline_row(2, "Ana") + inline_row(3, "Bia"),
    "whitespace between rows and cells": HEADER + '\n  <row r="2">\n <c r="A2" t="inlineStr"><is><t>Ana</t></is></c>\n</row>\n' + inline_row(3, "Bia"),
    "excels row attributes": HEADER + '<row r="2" spans="1:2" x14ac:dyDescent="0.25"><c r="A2" s="0"><v>5</v></c></row>',
    "a repeated attribute": HEADER + '<row r="2" spans="1:2" spans="1:2"><c r="A2"><v>1</v></c></row>',
    "a repeated cell": HEADER + '<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>2</v></c><c r="B2"><v>3</v></c></row>',
    "types": HEADER + '<row r="2"><c r="A2" t="b"><v>1</v></c><c r="B2" t="str"><v>x_x0041_</v></c><c r="C2" t="e"><v>#N/A</v></c>'
    '<c r="D2" t="d"><v>2020-01-02</v></c><c r="E2" s="7"><v>45000.5</v></c></row>',
    "a control character": HEADER + inline_row(2, "Ana\x01", "1"),
    "a non-character": HEADER + inline_row(2, "Ana\ufffe", "1"),
    "an undefined entity": HEADER + inline_row(2, "Ana&nbsp;", "1"),
    "a broken row": HEADER + '<row r="2"><c r="A2"><v>1</v></row>',
    "rows without a number": HEADER + '<row><c r="A3" t="inlineStr"><is><t>Ana</t></is></c></row>',
    "cells without a reference": HEADER + '<row r="2"><c t="inlineStr"><is><t>Ana</t></is></c><c><v>1</v></c></row>',
    "a merged cell": HEADER + inline_row(2, "Ana", "1") + "</sheetData><mergeCells><mergeCell ref='A2:B2'/></mergeCells><sheetData>",
}


@pytest.mark.parametrize("rows", WRITTEN_OTHERWISE.values(), ids=WRITTEN_OTHERWISE.keys())
def test_rows_written_any_way_are_read_as_the_parser_alone_reads_them(rows, monkeypatch):
    content = sheet(rows)
    assert read(content) == read_by_the_parser_alone(content, monkeypatch)


@pytest.mark.parametrize(
    "head",
    ['<?xml version="1.0" encoding="ISO-8859-1"?>', "", '\ufeff<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'],
)
def test_a_sheet_in_another_encoding_or_without_a_declaration_is_read_as_the_parser_alone_reads_it(head, monkeypatch):
    content = sheet(HEADER + inline_row(2, "João", "1"), head=head)
    assert read(content) == read_by_the_parser_alone(content, monkeypatch)


def test_a_prefixed_sheet_is_read_as_the_parser_alone_reads_it(monkeypatch):
    rows = '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Nome</x:t></x:is></x:c></x:row><x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c></x:row>'
    content = minimal_xlsx(
        f'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>{rows}</x:sheetData></x:worksheet>'.encode()
    )
    assert read(content) == read_by_the_parser_alone(content, monkeypatch)


def test_the_hostile_files_and_a_realistic_one_are_read_as_the_parser_alone_reads_them(monkeypatch):
    files = {**hostile_files(), **lying_dimension_files(), "realistic": realistic_file(3_000), "long row": sheet(HEADER + inline_row(2, "a" * 300_000))}
    for name, content in files.items():
        assert read(content) == read_by_the_parser_alone(content, monkeypatch), name


cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cells, max_size=6), min_size=1, max_size=8))
def test_any_cells_excel_would_keep_are_read_as_the_parser_alone_reads_them(rows):
    content = xlsx([["Nome", "Telefone"], *rows])
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert read(content) == read_by_the_parser_alone(content, monkeypatch)


@pytest.mark.parametrize("index", ["5", "-1", "99999999999999999999999"], ids=["past the end", "negative", "beyond any index"])
@pytest.mark.parametrize("where", ["header", "data row"])
def test_a_cell_naming_a_shared_string_the_file_does_not_have_is_a_damaged_file(index, where, monkeypatch):
    cell = f'<c r="A{{row}}" t="s"><v>{index}</v></c>'
    rows = f'<row r="1">{cell.format(row=1)}</row>' if where == "header" else HEADER + f'<row r="2">{cell.format(row=2)}</row>'
    content = sheet(rows)
    for result in (read(content), read_by_the_parser_alone(content, monkeypatch)):
        assert result[0] == "refused"
        assert "danificado" in result[1] or "damaged" in result[1]
