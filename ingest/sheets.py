"""Read spreadsheets (.xlsx with openpyxl, .csv with the csv module) into units of rows.

The first non-empty row of a sheet is its header row. Every later row is written
as ``header: value`` lines, so a cell far down a sheet is found by its column's
name, and ``ROWS_PER_UNIT`` rows make one unit, located by the rows' numbers as
the spreadsheet shows them: ``sheet "Q3" rows 10-29`` (a CSV: ``rows 10-29``,
its header being row 1). Empty rows are skipped; cells show their stored values
(for a formula, the value the program that saved the file computed, if it saved
one). An .xlsx is read in openpyxl's read-only (streaming) mode after
``ingest.units.open_zip`` has checked its sizes; a CSV is decoded like any text
file (``ingest.decode``) and its dialect sniffed from its start.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from indexes.errors import ReadError
from ingest.decode import decode_text
from ingest.units import Unit, check_units, open_zip, record_text, summary

__all__ = ["ROWS_PER_UNIT", "read_csv", "read_xlsx"]

ROWS_PER_UNIT = 20


def read_xlsx(data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """Each sheet's rows in blocks of ``ROWS_PER_UNIT``, located ``sheet "Name" rows a-b``."""
    import openpyxl

    open_zip(data, name, "Excel workbook")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, InvalidFileException, lxml errors ...
        raise ReadError(f"{name} is a damaged Excel workbook ({summary(exc)}): repair or re-save it",
                        code="parse_error") from None
    units: list[Unit] = []
    try:
        for sheet in workbook.worksheets:
            rows = ((number, [_cell(v) for v in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
            _add_blocks(units, rows, f'sheet "{sheet.title}" ', sheet.title, name, max_pages)
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(f"{name} is a damaged Excel workbook ({summary(exc)}): repair or re-save it",
                        code="parse_error") from None
    finally:
        workbook.close()
    return units


def read_csv(data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """The rows of a CSV file in blocks of ``ROWS_PER_UNIT``, located ``rows a-b``."""
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    units: list[Unit] = []
    try:
        rows = ((number, [" ".join(v.split()) for v in values])
                for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1))
        _add_blocks(units, rows, "", None, name, max_pages)
    except csv.Error as exc:
        raise ReadError(f"{name} is not a readable CSV file ({summary(exc)})", code="parse_error") from None
    return units


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _add_blocks(units: list[Unit], rows: Iterable[tuple[int, list[str]]], prefix: str, section: str | None,
                name: str, max_pages: int | None) -> None:
    """Append the units of one sheet: a header row, then blocks of rows written against it."""
    headers: list[str] | None = None
    header_row = 0
    block: list[tuple[int, str]] = []

    def close_block() -> None:
        if block:
            text = "\n\n".join(t for _n, t in block)
            units.append(Unit(text, f"{prefix}rows {block[0][0]}-{block[-1][0]}", section))
            check_units(units, name, max_pages, "blocks of rows")
            block.clear()

    for number, values in rows:
        if not any(values):
            continue
        if headers is None:
            headers, header_row = values, number
            continue
        block.append((number, record_text(headers, values)))
        if len(block) == ROWS_PER_UNIT:
            close_block()
    close_block()
    if headers is not None and not units and any(headers):  # a header row alone is still text
        units.append(Unit(" | ".join(h for h in headers if h), f"{prefix}rows {header_row}-{header_row}", section))
