"""`POST /import/{kind}`: bulk import over HTTP (multipart upload), the twin of `mpdb import`.

A REST endpoint rather than a GraphQL mutation because a file is not a GraphQL value: multipart
streams it to a spooled temporary file instead of holding a 50 MB string in a JSON body, and the
answer (counts plus a possibly long reject list) is a report, not a graph. Documented in
docs/IMPORT.md.

- auth: bearer token (`authenticate`), scope `import:write`; records are stamped with the
  token's agency and subject. Both are checked before the body is read;
- `kind` = `children | episodes | placements | flags | return_interviews` with one part `file`,
  or `ssda903` with parts `header`, `episodes`, `missing` and a form field `year`;
- the body is read through a byte counter: past the size cap (`MPDB_IMPORT_MAX_FILE_BYTES` per
  file part) the upload stops there with 413, without filling the disk first;
- each part is checked whole (mpdb/ingest/files.py) before the first write;
- 200 with the summary (`loaded`, `rejected`, `unchanged`, `errors[]`: line, column, rule,
  reason; `warnings[]` the same for rows that loaded with a caveat, e.g. an unknown postcode) whenever the file could be read, even if rows were rejected; 422 when the file as a
  whole is refused (malformed, header, encoding, agency) and nothing was written; 413 too large;
  503 with `Retry-After` when the database went away mid-import (the committed batches stay: the
  same upload again resumes); 403 without the scope, 401 without a token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message, Receive

from mpdb.auth.dependencies import authenticate
from mpdb.auth.principal import Principal, Scope
from mpdb.domain.errors import MpdbError
from mpdb.ingest.csv_formats import ImportKind
from mpdb.ingest.files import CsvFile, ImportFileError, ImportLimits, ImportTooLarge, too_large
from mpdb.ingest.importer import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    RETRY_AFTER_SECONDS,
    Importer,
    ImportInterrupted,
    database_unavailable,
)

PURPOSE_HEADER = "X-MPDB-Purpose"
SSDA903_PARTS = ("header", "episodes", "missing")
# Room for the multipart boundaries, part headers and the small form fields around the files.
_FORM_OVERHEAD_BYTES = 64 * 1024

_CSV_KINDS = frozenset(k.value for k in ImportKind)

router = APIRouter(prefix="/import", tags=["import"])


class _BodyTooLarge(Exception):
    pass


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
        return message

    return counted


async def _read_form(request: Request, parts: int, limits: ImportLimits) -> FormData:
    cap = limits.max_file_bytes * parts + _FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    # Named by the per-file cap: that is the setting to change.
    if declared.isdigit() and int(declared) > cap:
        raise too_large("the upload", int(declared), limits.max_file_bytes)
    capped = Request(request.scope, _capped(request.receive, cap))
    try:
        return await capped.form(max_files=parts, max_fields=4)
    except _BodyTooLarge:
        raise too_large("the upload", None, limits.max_file_bytes) from None


def _part(form: FormData, name: str, limits: ImportLimits) -> CsvFile:
    upload = form.get(name)
    if not isinstance(upload, UploadFile):
        raise ImportFileError(f"the part {name!r} is missing: send it as a file (multipart/form-data)", field=name)
    filename = upload.filename or f"{name}.csv"
    csv_file = CsvFile.from_stream(upload.file, filename)  # starlette spooled it to a temporary file
    if csv_file.size is not None and csv_file.size > limits.max_file_bytes:
        raise too_large(filename, csv_file.size, limits.max_file_bytes)
    return csv_file


def _int_field(form: FormData, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise ImportFileError(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def _refused(exc: MpdbError) -> JSONResponse:
    errors = [e.as_dict() for e in exc.errors] if isinstance(exc, ImportFileError) else []
    body: dict[str, Any] = {"code": exc.code, "message": exc.message, "field": exc.field, "errors": errors}
    return JSONResponse(body, status_code=413 if isinstance(exc, ImportTooLarge) else 422)


def _unavailable(exc: BaseException) -> JSONResponse:
    body: dict[str, Any] = {"code": "SERVICE_UNAVAILABLE", "errors": []}
    if isinstance(exc, ImportInterrupted):
        s = exc.summary
        body.update(message=exc.message, batches=s.batches, rowsCommitted=exc.committed, rows=s.rows,
                    loaded=s.loaded, unchanged=s.unchanged, rejected=s.rejected)
    else:  # before the first batch
        body.update(message="database unavailable after 0 batches, 0 rows committed; re-run to resume",
                    batches=0, rowsCommitted=0)
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.post("/{kind}")
async def import_file(
    kind: str,
    request: Request,
    principal: Annotated[Principal, Depends(authenticate)],
) -> JSONResponse:
    if not principal.has(Scope.IMPORT_WRITE):
        raise HTTPException(403, "Forbidden: needs scope import:write")
    if kind != "ssda903" and kind not in _CSV_KINDS:
        raise HTTPException(404, f"unknown import kind {kind!r}: use one of {', '.join([*ImportKind, 'ssda903'])}")
    limits = ImportLimits.from_settings(request.app.state.settings)
    purpose = request.headers.get(PURPOSE_HEADER) or f"bulk import ({kind})"
    try:
        form = await _read_form(request, len(SSDA903_PARTS) if kind == "ssda903" else 1, limits)
        try:
            batch_size = _int_field(form, "batchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE)
            importer = Importer(request.app.state.graph, principal, batch_size=batch_size or DEFAULT_BATCH_SIZE,
                                purpose=purpose[:500], request_id=getattr(request.state, "request_id", None),
                                limits=limits)
            if kind == "ssda903":
                year = _int_field(form, "year", None, 0, 9999)
                if year is None:
                    raise ImportFileError("an SSDA903 import needs the form field 'year'", field="year")
                header, episodes, missing = (_part(form, p, limits) for p in SSDA903_PARTS)
                summary = await importer.import_ssda903(year, header, episodes, missing)
            else:
                summary = await importer.import_csv(ImportKind(kind), _part(form, "file", limits))
        finally:
            await form.close()
    except MpdbError as exc:
        if database_unavailable(exc):
            return _unavailable(exc)
        return _refused(exc)
    except Exception as exc:
        if database_unavailable(exc):
            return _unavailable(exc)
        raise
    return JSONResponse(summary.as_dict())
