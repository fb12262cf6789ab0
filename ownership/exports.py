"""CSV and XLSX exports, safe against spreadsheet formula injection (OWASP CSV injection guidance)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from io import BytesIO

from django.http import HttpResponse, StreamingHttpResponse

from cxgov.lib.spreadsheet import safe_cell

__all__ = ["csv_response", "safe_cell", "xlsx_response"]


class _Echo:
    def write(self, value):
        return value


def csv_response(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)  # every text cell quoted, as OWASP advises
    response = StreamingHttpResponse(
        (writer.writerow([safe_cell(v) for v in row]) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(rows: Iterable[list], filename: str, title: str) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True)
    for n, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)  # text cells below: no quote needed, none shown
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never let openpyxl read a string as a formula
            if n == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
