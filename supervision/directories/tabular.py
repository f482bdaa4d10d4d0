"""Tables in files: reading and writing CSV, XLSX, JSON and JSONL, the way users have them.

Reading gives the headers exactly as written in the file plus rows numbered the way the
user sees them (CSV/XLSX: the header is row 1; JSON: 1-based position in the array;
JSONL: the line number). `clean_cell` says what a cell means: surrounding whitespace stripped,
empty cells become None, Excel numbers become text, and the formula-neutralising prefix
that our own exports add (``'=``, ``'+``, ``'-``, ``'@``, ``'\\t``, ``'\\r``) is removed.

Writing CSV/XLSX neutralises every text cell that a spreadsheet would read as a formula
by prefixing ``'``. Every exported cell is text, so this also applies to a leading ``-``;
negative numbers do not occur in these tables, so nothing numeric is lost.

An XLSX is checked by supervision.directories.xlsx_guard before and while it is read.
"""

from __future__ import annotations

import codecs
import csv
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from supervision.directories.xlsx_guard import check_row_size, check_xlsx
from supervision.errors import SupervisionError

FORMATS = ("csv", "xlsx", "json", "jsonl")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SAMPLE_BYTES = 1 << 20


@dataclass
class Sheet:
    """A table read from a file: headers as written, rows as (row number, raw cells).

    Raw cells go through `clean_cell` in the importer (in its worker processes for big files).
    """

    path: Path
    format: str
    encoding: str | None
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    total: int | None  # an estimate of the number of data rows, for progress bars
    closer: Callable[[], None] | None = None

    def close(self) -> None:
        """Release the file, also when the rows were not read to the end."""
        close_rows = getattr(self.rows, "close", None)
        if close_rows is not None:
            close_rows()
        if self.closer is not None:
            self.closer()


def file_format(path: Path) -> str:
    """The format named by the file's extension."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise SupervisionError(
        f"不支持的文件类型 {path.name}，应为 .csv、.xlsx、.json 或 .jsonl",
        f"unsupported file type {path.name}: use .csv, .xlsx, .json or .jsonl",
    )


def normalise_header(header: str) -> str:
    """The form headers are compared in: NFKC (full-width → half-width), no case, no spaces."""
    text = unicodedata.normalize("NFKC", str(header)).lower()
    return "".join(ch for ch in text if not ch.isspace() and ch != "*")


def neutralise(text: str) -> str:
    """Make a text cell safe for spreadsheets: a leading = + - @ tab CR gets a ' prefix.

    Text that already starts with quotes before such a character gets one more quote, so
    `unneutralise` gives back exactly what was stored.
    """
    if text.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Undo `neutralise` so that exported files re-import to the same values."""
    if text.startswith("'") and text[1:].lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


def clean_cell(value: Any) -> Any:
    """One cell as the importer wants it (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = unneutralise(value.strip()).strip()
        return text or None
    if isinstance(value, bool):
        return value
    if isinstance(value, list | dict):
        return value  # JSON arrays and objects (qualifications, payload)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value  # datetime, date, list, dict (JSON) pass through


# ---------------------------------------------------------------- reading
def read_table(path: Path, *, encoding: str | None = None) -> Sheet:
    """Open `path` (csv, xlsx, json, jsonl) and return its headers and numbered rows."""
    path = Path(path)
    if not path.is_file():
        raise SupervisionError(f"找不到文件 {path}", f"no such file: {path}")
    fmt = file_format(path)
    if fmt == "csv":
        return _read_csv(path, encoding)
    if fmt == "xlsx":
        return _read_xlsx(path)
    return _read_json(path, fmt, encoding)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the start of the file decodes as such, else GB18030."""
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        more = bool(fh.read(1))
    if more and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]  # never cut a multi-byte character
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    raise SupervisionError(
        f"无法识别 {path.name} 的编码，请用 --encoding 指定",
        f"cannot tell the encoding of {path.name}; pass --encoding",
    )


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise SupervisionError(f"未知的编码 {name}", f"unknown encoding {name}") from None


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
    return count


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> SupervisionError:
    return SupervisionError(
        f"{path.name} 不是 {encoding} 编码（第 {exc.start} 字节附近），请用 --encoding 指定",
        f"{path.name} is not {encoding} near byte {exc.start}; pass --encoding",
    )


def _read_csv(path: Path, encoding: str | None) -> Sheet:
    enc = _check_encoding(encoding) if encoding else detect_encoding(path)
    if enc in ("utf-8", "utf_8"):
        enc = "utf-8-sig"  # a BOM is never part of the first header
    fh = path.open(encoding=enc, newline="")
    reader = csv.reader(fh)
    try:
        headers = next(reader, None)
    except UnicodeDecodeError as exc:
        fh.close()
        raise _decode_error(path, enc, exc) from None
    if headers is None:
        fh.close()
        raise SupervisionError(f"{path.name} 是空文件", f"{path.name} is empty")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        with fh:
            try:
                for values in reader:
                    if any(values):  # cells are cleaned by the importer, in its workers
                        yield reader.line_num, values
            except UnicodeDecodeError as exc:
                raise _decode_error(path, enc, exc) from None
            except csv.Error as exc:
                raise SupervisionError(
                    f"{path.name} 第 {reader.line_num} 行 CSV 格式错误：{exc}",
                    f"{path.name} line {reader.line_num}: malformed CSV: {exc}",
                ) from None

    return Sheet(
        path, "csv", enc, [h.strip() for h in headers], rows(), _count_lines(path) - 1, fh.close
    )


def csv_blocks(
    path: Path, *, block_size: int = 1 << 22, numbered: bool = True
) -> Iterator[tuple[int, bytes]]:
    """The data rows of a CSV file as raw byte blocks of whole records, for worker processes.

    Yields (line number of the block's first line, bytes). A block ends at a newline
    preceded by an even number of quote characters since the block began, so quoted cells
    with line breaks stay whole. Splitting bytes at newline is safe in UTF-8 and GB18030,
    where that byte never occurs inside a character. The header record is skipped, and
    `parse_csv_block` numbers rows as `read_table` does. Callers check the result: a stray
    quote in an unquoted cell can move a boundary, so any problem is re-checked by the
    sequential reader. With `numbered=False` every block's line number is 0 (counting the
    line breaks of a big file costs the reader as much as finding the blocks).
    """
    with path.open("rb") as fh:
        pending = b""
        line = 1
        header = True
        eof = False
        while not eof:
            data = fh.read(block_size)
            eof = not data
            pending += data
            if header:
                end = len(pending) if eof else _first_record_end(pending)
                if not end:
                    continue  # the header record is longer than one read
                line += _lines(pending[:end]) if numbered else 0
                pending = pending[end:]
                header = False
            cut = len(pending) if eof else _last_record_end(pending)
            if cut:
                block = pending[:cut]
                if block and not block.isspace():
                    yield (line if numbered else 0), block
                if numbered:
                    line += _lines(block)
                pending = pending[cut:]


def _lines(data: bytes) -> int:
    """Line breaks as the csv reader counts them (universal newlines: \\n, \\r\\n, \\r)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _first_record_end(buffer: bytes) -> int:
    newline = buffer.find(b"\n")
    while newline >= 0:
        if buffer.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        newline = buffer.find(b"\n", newline + 1)
    return 0


def _last_record_end(buffer: bytes) -> int:
    newline = buffer.rfind(b"\n")
    quotes = buffer.count(b'"', 0, newline) if newline >= 0 else 0
    while newline >= 0:
        if quotes % 2 == 0:
            return newline + 1
        previous = buffer.rfind(b"\n", 0, newline)
        quotes -= buffer.count(b'"', max(previous, 0), newline)
        newline = previous
    return 0


def parse_csv_block(data: bytes, encoding: str, first_line: int) -> Iterator[tuple[int, list[str]]]:
    """The rows of one block from `csv_blocks`, numbered like `read_table` numbers them."""
    import io

    reader = csv.reader(io.StringIO(data.decode(encoding), newline=""))
    offset = first_line - 1
    for values in reader:
        if any(values):
            yield offset + reader.line_num, values


def _read_xlsx(path: Path) -> Sheet:
    from openpyxl import load_workbook

    check_xlsx(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SupervisionError(
            f"无法读取 Excel 文件 {path.name}", f"cannot read Excel file {path.name}: {exc}"
        ) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        workbook.close()
        raise SupervisionError(f"{path.name} 是空表", f"{path.name} has no rows")
    headers = [("" if h is None else str(h).strip()) for h in first]
    while headers and not headers[-1]:
        headers.pop()  # trailing empty header cells are formatting, not columns
    width = len(headers)
    total = (sheet.max_row - 1) if sheet.max_row else None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, row in enumerate(values, start=2):
                cells = list(row)
                if all(c is None or c == "" for c in cells):
                    continue
                check_row_size(path, number, cells, headers)
                if all(c is None for c in cells[width:]):
                    cells = cells[:width]  # cells past the last header are kept only if filled
                yield number, cells
        finally:
            workbook.close()

    return Sheet(path, "xlsx", None, headers, rows(), total, workbook.close)


def _read_json(path: Path, fmt: str, encoding: str | None) -> Sheet:
    enc = _check_encoding(encoding) if encoding else "utf-8-sig"
    objects: list[tuple[int, Any]] = []
    try:
        with path.open(encoding=enc) as fh:
            if fmt == "json":
                try:
                    data = json.load(fh)
                except json.JSONDecodeError as exc:
                    raise SupervisionError(
                        f"{path.name} 不是合法的 JSON（第 {exc.lineno} 行）：{exc.msg}",
                        f"{path.name} is not valid JSON (line {exc.lineno}): {exc.msg}",
                    ) from None
                if not isinstance(data, list):
                    raise SupervisionError(
                        f"{path.name} 应为对象数组", f"{path.name} must be an array of objects"
                    )
                objects = list(enumerate(data, start=1))
            else:
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        objects.append((number, json.loads(line)))
                    except json.JSONDecodeError as exc:
                        raise SupervisionError(
                            f"{path.name} 第 {number} 行不是合法的 JSON：{exc.msg}",
                            f"{path.name} line {number} is not valid JSON: {exc.msg}",
                        ) from None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, enc, exc) from None
    headers: dict[str, None] = {}
    for number, obj in objects:
        if not isinstance(obj, dict):
            where = f"第 {number} 项" if fmt == "json" else f"第 {number} 行"
            raise SupervisionError(
                f"{path.name} {where}不是对象", f"{path.name} item {number} is not an object"
            )
        headers.update(dict.fromkeys(str(k) for k in obj))
    names = list(headers)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, obj in objects:
            yield number, [obj.get(name) for name in names]

    return Sheet(path, fmt, enc, names, rows(), len(objects))


# ---------------------------------------------------------------- writing
def text_cell(value: Any) -> str:
    """A value as spreadsheet text: dates ISO, booleans 是/否, lists joined with 、."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def write_table(
    path: Path,
    fmt: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    json_keys: Sequence[str] | None = None,
    advance: Callable[[int], None] | None = None,
) -> int:
    """Write rows to `path` in `fmt`; CSV/XLSX neutralised, JSON with `json_keys`. Returns count."""
    count = 0
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            for row in rows:
                writer.writerow([neutralise(text_cell(v)) for v in row])
                count += 1
                if advance and count % 10_000 == 0:
                    advance(10_000)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(list(headers))
        for row in rows:
            sheet.append([neutralise(text_cell(v)) for v in row])
            count += 1
            if advance and count % 10_000 == 0:
                advance(10_000)
        workbook.save(path)
    elif fmt in ("json", "jsonl"):
        keys = list(json_keys or headers)
        with path.open("w", encoding="utf-8") as fh:
            if fmt == "json":
                fh.write("[")
            for row in rows:
                obj = {k: json_value(v) for k, v in zip(keys, row, strict=True)}
                text = json.dumps(obj, ensure_ascii=False, sort_keys=False)
                if fmt == "json":
                    fh.write(("\n  " if count == 0 else ",\n  ") + text)
                else:
                    fh.write(text + "\n")
                count += 1
                if advance and count % 10_000 == 0:
                    advance(10_000)
            if fmt == "json":
                fh.write("\n]\n" if count else "]\n")
    else:
        raise SupervisionError(f"不支持的导出格式 {fmt}", f"unsupported export format {fmt}")
    if advance:
        advance(count % 10_000)
    return count
