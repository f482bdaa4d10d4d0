"""Uploaded files (admin): size limits, safe names, and zip packs unpacked into a temp dir.

The admin pages take files (a directory import, a candidate rule pack). Nothing from the
browser decides where a file lands: names are reduced to a base name with an allowed
extension, every byte goes into a temporary directory the caller owns, and a zip is
unpacked only entry by entry after checking the path stays inside that directory, is no
link, and that the totals stay under the limits (no zip bombs).

Size: ``upload_guard(limit)`` is a route dependency declared before the role check, so an
oversized multipart request is refused from its Content-Length before the form (and its
file) is parsed at all; the copy counts bytes again in case the header lied.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path, PurePosixPath

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from supervision.errors import SupervisionError

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_PACK_BYTES",
    "MAX_PACK_FILES",
    "MAX_PACK_UNPACKED",
    "extract_pack_zip",
    "form_text",
    "form_upload",
    "safe_name",
    "save_upload",
    "upload_guard",
]

#: A directory file: a county's whole entity directory as CSV fits with room to spare.
MAX_IMPORT_BYTES = 100 * 1024 * 1024
#: A candidate rule pack (one YAML file or a zip of a pack folder): packs are small text.
MAX_PACK_BYTES = 2 * 1024 * 1024
#: Inside a zipped pack: at most this many entries and this many bytes once unpacked.
MAX_PACK_FILES = 200
MAX_PACK_UNPACKED = 10 * 1024 * 1024
_CHUNK = 1024 * 1024
_FORBIDDEN = set('<>:"|?*')


def _mib(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB"


def too_large(limit: int) -> SupervisionError:
    return SupervisionError(
        f"上传的文件过大（上限 {_mib(limit)}），未作任何更改",
        f"the upload is too large (limit {_mib(limit)}); nothing was changed",
    )


def upload_guard(limit: int) -> Callable[[Request], AsyncIterator[None]]:
    """A dependency refusing a multipart request whose declared size exceeds `limit`.

    Declare it before ``requires(...)``: the role check reads the form (for its CSRF
    field), and the form parser would otherwise spool the whole body to disk first.
    A multipart request without Content-Length is refused too (browsers always send it).
    Afterwards, however the request ended (a refused token included), the parsed form's
    spooled files are closed.
    """

    async def guard(request: Request) -> AsyncIterator[None]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                raise SupervisionError(
                    "上传请求缺少 Content-Length，未作任何更改",
                    "the upload has no Content-Length; nothing was changed",
                )
            if int(length) > limit + 64 * 1024:  # the form's other fields and boundaries
                raise too_large(limit)
        try:
            yield
        finally:
            await request.close()  # closes the form's files, if the form was read

    return guard


def form_text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def form_upload(form: FormData, name: str = "file") -> UploadFile:
    """The uploaded file of field `name`; a bilingual error when none was chosen."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        raise SupervisionError("请选择要上传的文件", "choose a file to upload")
    return value


def safe_name(filename: str | None, allowed: tuple[str, ...]) -> str:
    """The base name of an uploaded file, if its extension is allowed (no path, no oddities)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in _FORBIDDEN)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in allowed or name.startswith(".") or not PurePosixPath(name).stem:
        shown = "、".join(allowed)
        raise SupervisionError(
            f"不支持的文件 {name or '（无名称）'}：应为 {shown} 文件",
            f"unsupported file {name or '(no name)'}: use {', '.join(allowed)}",
        )
    if len(name) > 120:
        name = PurePosixPath(name).stem[:100] + suffix
    return name


async def save_upload(upload: UploadFile, target: Path, limit: int) -> int:
    """Copy the upload to `target` (a path inside the caller's temp dir); returns its size."""
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            out.write(chunk)
    return size


def _entry_path(name: str) -> PurePosixPath | None:
    """The relative path of a zip entry, or None when it may not be unpacked."""
    if "\\" in name or "\0" in name:
        return None
    path = PurePosixPath(name)
    if not path.parts or path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        return None
    return path


def extract_pack_zip(archive: Path, into: Path) -> list[str]:
    """Unpack the rule files (*.yaml, *.yml) of a zipped pack folder into `into`.

    Refuses (naming the entry) an absolute or ``..`` path, a link, too many entries or too
    many bytes; other files (a README) are skipped and returned so the page can say so.
    """
    skipped: list[str] = []
    root = into.resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SupervisionError(
            "上传的文件不是有效的 zip 压缩包", "the upload is not a valid zip archive"
        ) from None
    with zf:
        entries = zf.infolist()
        if len(entries) > MAX_PACK_FILES:
            raise SupervisionError(
                f"压缩包内文件过多（上限 {MAX_PACK_FILES} 个）",
                f"too many entries in the zip (limit {MAX_PACK_FILES})",
            )
        total = 0
        for entry in entries:
            if entry.is_dir():
                continue
            path = _entry_path(entry.filename)
            mode = entry.external_attr >> 16
            if path is None or stat.S_ISLNK(mode):
                raise SupervisionError(
                    f"压缩包中的路径不安全：{entry.filename}，未作任何处理",
                    f"unsafe path in the zip: {entry.filename!r}; nothing was done",
                )
            if path.suffix.lower() not in (".yaml", ".yml"):
                skipped.append(entry.filename)
                continue
            target = (root / Path(*path.parts)).resolve()
            if not target.is_relative_to(root):
                raise SupervisionError(
                    f"压缩包中的路径不安全：{entry.filename}，未作任何处理",
                    f"unsafe path in the zip: {entry.filename!r}; nothing was done",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(entry) as src, target.open("wb") as out:
                while chunk := src.read(64 * 1024):
                    total += len(chunk)  # counted as read: a lying header cannot help
                    if total > MAX_PACK_UNPACKED:
                        raise SupervisionError(
                            f"压缩包解压后过大（上限 {_mib(MAX_PACK_UNPACKED)}）",
                            f"the zip unpacks to too much data (limit {_mib(MAX_PACK_UNPACKED)})",
                        )
                    out.write(chunk)
    return skipped
