"""`POST /import/{kind}`: bulk import over HTTP (multipart upload), the twin of `mpdb import`.

A REST endpoint rather than a GraphQL mutation because a file is not a GraphQL value: multipart
streams it to a spooled temporary file instead of holding a 50 MB string in a JSON body, and the
answer (counts plus a possibly long reject list) is a report, not a graph. Documented in
docs/IMPORT.md.

- auth: bearer token (`authenticate`), scope `import:write`; records are stamped with the
  token's agency and subject;
- `kind` = `children | episodes | placements | flags | return_interviews` with one part `file`,
  or `ssda903` with parts `header`, `episodes`, `missing` and a form field `year`;
- 200 with the summary (`loaded`, `rejected`, `unchanged`, `errors[]`: line, column, rule,
  reason) whenever the file could be read, even if rows were rejected; 422 when the file as a
  whole is refused (header, encoding, agency), 403 without the scope, 401 without a token.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse

from mpdb.auth.dependencies import authenticate
from mpdb.auth.principal import Principal, Scope
from mpdb.domain.errors import MpdbError
from mpdb.ingest.csv_formats import ImportKind
from mpdb.ingest.importer import DEFAULT_BATCH_SIZE, Importer, ImportFileError

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
PURPOSE_HEADER = "X-MPDB-Purpose"

router = APIRouter(prefix="/import", tags=["import"])


class _NotUtf8(Exception):
    pass


def _lines(upload: UploadFile) -> Iterator[str]:
    """Stream the upload as text lines, decoding incrementally (a BOM is dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    upload.file.seek(0)
    try:
        while chunk := upload.file.read(1 << 16):
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line + "\n"
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _NotUtf8(f"{upload.filename or 'the file'} is not UTF-8 text") from exc
    if pending:
        yield pending


def _check_size(*uploads: UploadFile) -> None:
    for u in uploads:
        if u.size is not None and u.size > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"{u.filename} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")


def _refused(exc: Exception) -> JSONResponse:
    if isinstance(exc, ImportFileError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, "field": exc.field,
                                "errors": [e.as_dict() for e in exc.errors]}
    elif isinstance(exc, MpdbError):
        body = {"code": exc.code, "message": exc.message, "field": exc.field, "errors": []}
    else:
        body = {"code": "BAD_USER_INPUT", "message": str(exc), "field": "file", "errors": []}
    return JSONResponse(body, status_code=422)


@router.post("/{kind}")
async def import_file(
    kind: str,
    request: Request,
    principal: Annotated[Principal, Depends(authenticate)],
    file: UploadFile | None = None,
    header: UploadFile | None = None,
    episodes: UploadFile | None = None,
    missing: UploadFile | None = None,
    year: Annotated[int | None, Form()] = None,
    batch_size: Annotated[int, Form(alias="batchSize", ge=1, le=10_000)] = DEFAULT_BATCH_SIZE,
) -> JSONResponse:
    if not principal.has(Scope.IMPORT_WRITE):
        raise HTTPException(403, "Forbidden: needs scope import:write")
    purpose = request.headers.get(PURPOSE_HEADER) or f"bulk import ({kind})"
    importer = Importer(request.app.state.graph, principal, batch_size=batch_size, purpose=purpose[:500],
                        request_id=getattr(request.state, "request_id", None))
    try:
        if kind == "ssda903":
            if header is None or episodes is None or missing is None or year is None:
                raise ImportFileError("an SSDA903 import needs the parts header, episodes, missing and year",
                                      field="file")
            _check_size(header, episodes, missing)
            summary = await importer.import_ssda903(
                year, _lines(header), _lines(episodes), _lines(missing),
                files={"header": header.filename or "header.csv", "episodes": episodes.filename or "episodes.csv",
                       "missing": missing.filename or "missing.csv"})
        else:
            try:
                import_kind = ImportKind(kind)
            except ValueError:
                raise HTTPException(404, f"unknown import kind {kind!r}: use one of "
                                         f"{', '.join([*ImportKind, 'ssda903'])}") from None
            if file is None:
                raise ImportFileError(f"a {kind} import needs the part 'file'", field="file")
            _check_size(file)
            summary = await importer.import_csv(import_kind, _lines(file), file=file.filename or "upload.csv")
    except (MpdbError, _NotUtf8) as exc:
        return _refused(exc)
    return JSONResponse(summary.as_dict())
