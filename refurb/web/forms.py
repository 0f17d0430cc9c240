"""What every area's pages and API need of a request and a response, written once.

Form bodies, uploaded files, a refused form's message, and file downloads
whose name survives quotes and accents (RFC 6266 `filename*`).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from pydantic import ValidationError

from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.web.problems import render_error, status_of

__all__ = (
    "Form",
    "MultipartForm",
    "blank",
    "download",
    "form_error",
    "form_text",
    "read_files",
    "uploaded",
)

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def form_error(error: DomainError | ValidationError) -> tuple[str, int]:
    """A refused form's message, in the reader's language, and its HTTP status."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}", 400
    return render_error(error), status_of(error)


def blank(form: dict[str, Any]) -> dict[str, Any]:
    """Empty form fields mean "not given"."""
    return {k: v for k, v in form.items() if v not in ("", None)}


def form_text(data: dict[str, Any], name: str) -> str | None:
    """One text field of a form: stripped, None when empty; sent twice is refused."""
    value = data.get(name)
    if isinstance(value, list):
        raise BadInput(N_("The field '{name}' is given more than once."), code="repeated_field", name=name)
    text = str(value or "").strip()
    return text or None


def uploaded(value: Any) -> UploadFile:
    """The file of a multipart form, or a clear refusal."""
    if not isinstance(value, UploadFile):
        raise BadInput(N_("Attach the file in the `file` field (multipart/form-data)."), code="file_required")
    return value


async def read_files(value: Any) -> list[tuple[bytes, str]]:
    """The `file` parts of a multipart form (one or several), read."""
    files = value if isinstance(value, list) else [value]
    return [(await uploaded(item).read(), uploaded(item).filename or "") for item in files]


def _ascii(name: str) -> str:
    """A plain-ASCII stand-in for old clients: accents dropped, quotes and separators replaced."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in plain).strip()
    return cleaned or "download"


def download(
    content: bytes,
    filename: str,
    media_type: str,
    *,
    inline: bool = False,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """A file to save (or, `inline`, to show): its name in `filename*` (UTF-8), with an ASCII fallback."""
    if media_type.startswith("text/"):
        media_type = media_type.split(";")[0]  # Litestar adds "; charset=utf-8" to text types itself
    disposition = "inline" if inline else "attachment"
    value = f'{disposition}; filename="{_ascii(filename)}"'
    if quote(filename, safe="") != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(
        content,
        media_type=media_type,
        status_code=status_code,
        headers={"content-disposition": value, **(headers or {})},
    )
