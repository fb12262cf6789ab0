"""CSV and XLSX exports, safe against spreadsheet formula injection (OWASP CSV injection guidance)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable

from django.http import FileResponse, StreamingHttpResponse

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


def xlsx_response(rows: Iterable[list], filename: str, title: str) -> FileResponse:
    """An XLSX file built in openpyxl's write-only mode (rows go straight to a temporary file, so memory
    stays constant) and streamed from that file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True)

    def text(value):
        # openpyxl reads a string starting with "=" as a formula: never let it (text cells need no quote).
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    rows = iter(rows)
    header = []
    for value in next(rows, []):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type, cell.font = "s", bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([text(value) for value in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it once sent
    book.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
