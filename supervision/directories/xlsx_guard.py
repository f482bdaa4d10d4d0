"""What an XLSX file must pass before and while it is read: an XLSX is a zip, and a small
file can unpack to gigabytes or hold a cell far past anything Excel writes.

Before openpyxl opens it, `check_xlsx` checks the parts' declared sizes (all together, and
the shared strings the reader holds in memory) and scans each big XML part for a text run
longer than any Excel cell. While rows are read, `check_row_size` refuses a cell over
Excel's own limit or a row over MAX_ROW_CHARS, naming the row and column.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from supervision.errors import SupervisionError
from supervision.models.fields import shown

#: Excel's own limit on one cell: a longer cell did not come from Excel.
MAX_CELL_CHARS = 32_767
#: All the cells of one row together.
MAX_ROW_CHARS = 1_000_000
#: An XLSX is a zip: the most its parts may unpack to, all together and the shared
#: strings alone (which the reader holds in memory), as the zip declares them (Python's
#: zipfile never unpacks a part past its declared size).
MAX_XLSX_UNPACKED = 4 * 1024**3
MAX_XLSX_SHARED_STRINGS = 256 * 1024**2
#: Longest run of XML text (bytes between two tags) a part may hold: a cell of
#: MAX_CELL_CHARS characters, each written as an entity at worst, fits.
_MAX_TEXT_RUN = 8 * MAX_CELL_CHARS


def _xlsx_bomb(path: Path, zh: str, en: str) -> SupervisionError:
    return SupervisionError(
        f"拒绝读取 Excel 文件 {path.name}：{zh}", f"refused to read Excel file {path.name}: {en}"
    )


def check_xlsx(path: Path) -> None:
    """Refuse a decompression bomb before openpyxl reads it: the parts' declared sizes,
    then each XML part streamed (a megabyte at a time) for a text run longer than any
    Excel cell, so a 300 MB cell costs a scan of its first bytes, not 300 MB of memory."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _xlsx_bomb(path, "不是有效的 zip 文件", f"not a valid zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_XLSX_UNPACKED:
            raise _xlsx_bomb(
                path,
                f"解压后 {total} 字节，超过上限 {MAX_XLSX_UNPACKED} 字节",
                f"it unpacks to {total} bytes, over the limit of {MAX_XLSX_UNPACKED}",
            )
        for member in members:
            name = member.filename
            if name.endswith("sharedStrings.xml") and member.file_size > MAX_XLSX_SHARED_STRINGS:
                raise _xlsx_bomb(
                    path,
                    f"共享字符串 {name} 解压后 {member.file_size} 字节，超过上限 "
                    f"{MAX_XLSX_SHARED_STRINGS} 字节",
                    f"its shared strings {name} unpack to {member.file_size} bytes, over the "
                    f"limit of {MAX_XLSX_SHARED_STRINGS}",
                )
            if name.endswith(".xml") and member.file_size > _MAX_TEXT_RUN:
                _scan_text_runs(path, archive, member)


def _scan_text_runs(path: Path, archive: Any, member: Any) -> None:
    run = 0  # bytes since the last '<', carried across chunks
    offset = 0
    try:
        with archive.open(member) as part:
            while chunk := part.read(1 << 20):
                pieces = chunk.split(b"<")
                first = run + len(pieces[0])
                longest = max(first, *map(len, pieces[1:])) if len(pieces) > 1 else first
                if longest > _MAX_TEXT_RUN:
                    raise _xlsx_bomb(
                        path,
                        f"{member.filename} 在第 {offset} 字节附近有超过 {MAX_CELL_CHARS} "
                        "个字符的单元格（超出 Excel 的单元格上限）",
                        f"{member.filename} holds a cell of more than {MAX_CELL_CHARS} "
                        f"characters near byte {offset} (over Excel's own cell limit)",
                    )
                run = len(pieces[-1]) if len(pieces) > 1 else first
                offset += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _xlsx_bomb(
            path, f"{member.filename} 已损坏", f"{member.filename} is damaged ({exc})"
        ) from None


def check_row_size(path: Path, number: int, cells: list[Any], headers: list[str]) -> None:
    """A cell over Excel's own limit, or a row over MAX_ROW_CHARS, is refused (named)."""
    total = 0
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        total += len(cell)
        if len(cell) > MAX_CELL_CHARS:
            column = headers[index] if index < len(headers) else f"#{index + 1}"
            raise SupervisionError(
                f"{path.name} 第 {number} 行「{column}」列有 {len(cell)} 个字符，超过上限 "
                f"{MAX_CELL_CHARS}（{shown(cell, 40)}）",
                f"{path.name} row {number}, column {column!r}: {len(cell)} characters, over "
                f"the limit of {MAX_CELL_CHARS} ({shown(cell, 40)})",
            )
    if total > MAX_ROW_CHARS:
        raise SupervisionError(
            f"{path.name} 第 {number} 行共 {total} 个字符，超过上限 {MAX_ROW_CHARS}",
            f"{path.name} row {number} holds {total} characters, over the limit of {MAX_ROW_CHARS}",
        )
