"""An import file, and the check of the whole file that runs before anything is written.

Every entry point (`mpdb import`, `POST /import/{kind}`, the SSDA903 return, `mpdb load`) hands
the importer a `CsvFile`: a path, or an upload already spooled to a temporary file, that can be
read twice. The first read (`CsvFile.check`) refuses the file as a whole, naming the file, line
and column at fault, for anything that makes it unreadable or malformed:

| rule         | what                                                                 |
|--------------|----------------------------------------------------------------------|
| (size)       | larger than `MPDB_IMPORT_MAX_FILE_BYTES` (`ImportTooLarge`: HTTP 413) |
| `empty`      | no header line                                                       |
| `header`     | the kind's own header check (unknown, missing or duplicated columns) |
| `encoding`   | a byte sequence that is not UTF-8                                    |
| `quoting`    | broken CSV quoting (a quote never closed, text after a closing one)  |
| `field_size` | a cell longer than `MPDB_IMPORT_MAX_FIELD_CHARS` (a runaway quote)   |
| `cell_count` | a row with more or fewer cells than the header                       |

Only then does the second read feed the importer, which writes batch by batch: a refused file
has written nothing. What is wrong with one row's values (a bad date, an unknown code, a control
character in a name) stays a row-level reject: the row is reported and the rest load.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mpdb.domain.errors import InvalidInput
from mpdb.ingest.csv_formats import RowError

DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_FIELD_CHARS = 65_536
_BOM = b"\xef\xbb\xbf"


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported (malformed, wrong header, unknown agency): nothing
    is written."""

    def __init__(self, message: str, errors: Sequence[RowError] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors = list(errors)

    def one_line(self) -> str:
        """The message and every error in one line (the CLI prints this)."""
        if not self.errors:
            return self.message
        if len(self.errors) == 1 and _located(self.errors[0]) == self.message:
            return self.message
        places: dict[str, list[str]] = {}
        for e in self.errors:
            where = f"{e.file} line {e.line}"
            places.setdefault(where, []).append(f"{e.column}: {e.reason}" if e.column else e.reason)
        return f"{self.message}: " + "; ".join(f"{where}: {', '.join(r)}" for where, r in places.items())


class ImportTooLarge(ImportFileError):
    code = "PAYLOAD_TOO_LARGE"


def _located(e: RowError) -> str:
    where = f"{e.file} line {e.line}" + (f", column {e.column}" if e.column else "")
    return f"{where}: {e.reason}"


def _refuse(file: str, line: int, column: str | None, reason: str, rule: str) -> ImportFileError:
    err = RowError(file, line, column, reason, rule)
    return ImportFileError(_located(err), [err], field="file")


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS

    @classmethod
    def from_settings(cls, settings: Any) -> ImportLimits:
        return cls(settings.import_max_file_bytes, settings.import_max_field_chars)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def too_large(file: str, size: int | None, limit: int) -> ImportTooLarge:
    what = f"is {_mb(size)}, over" if size is not None else "is over"
    return ImportTooLarge(f"{file} {what} the import size cap of {_mb(limit)} (MPDB_IMPORT_MAX_FILE_BYTES)",
                          field="file")


class _BadByte(Exception):
    def __init__(self, line: int, exc: UnicodeDecodeError, raw: bytes) -> None:
        self.line, self.exc, self.raw = line, exc, raw


def _physical_lines(f: IO[bytes]) -> Iterator[bytes]:
    """Lines ending in LF, CRLF or a lone CR (a spreadsheet's "CSV (Macintosh)"), as text mode
    with newline="" would split them for the csv module."""
    for chunk in f:
        if b"\r" in chunk.rstrip(b"\r\n"):
            yield from chunk.splitlines(keepends=True)
        else:
            yield chunk


def _decoded(f: IO[bytes]) -> Iterator[str]:
    """Text lines, decoded one physical line at a time so that a bad byte is named by its line
    (a UTF-8 sequence never contains a CR or LF byte, so splitting first is exact)."""
    for n, raw in enumerate(_physical_lines(f), 1):
        if n == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadByte(n, exc, raw) from None
        yield text


def _reader(lines: Iterable[str]) -> Any:
    # strict: broken quoting is an error instead of being silently glued into one cell. The csv
    # module's own field limit (128 KiB by default, process-wide) would end the read with a bare
    # error; the file size cap bounds a cell anyway, and `check` names the cell over our own limit.
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    return csv.reader(iter(lines), strict=True)


_FIELD_LIMIT = 2**31 - 1


def _blank(cells: Sequence[str]) -> bool:
    return not any(c.strip() for c in cells)


class CsvFile:
    """One CSV file to import: opened afresh for each read (the check, then the import)."""

    def __init__(self, name: str, opener: Callable[[], AbstractContextManager[IO[bytes]]], size: int | None) -> None:
        self.name = name
        self._open = opener
        self.size = size

    @classmethod
    def from_path(cls, path: Path, name: str | None = None) -> CsvFile:
        return cls(name or path.name, lambda: open(path, "rb"), path.stat().st_size)

    @classmethod
    def from_stream(cls, stream: IO[bytes], name: str, size: int | None = None) -> CsvFile:
        """A seekable stream, e.g. a multipart upload spooled to a temporary file."""
        if size is None:
            stream.seek(0, io.SEEK_END)
            size = stream.tell()

        def rewind() -> AbstractContextManager[IO[bytes]]:
            stream.seek(0)
            return nullcontext(stream)

        return cls(name, rewind, size)

    @classmethod
    def from_text(cls, text: str | Iterable[str], name: str) -> CsvFile:
        data = (text if isinstance(text, str) else "".join(text)).encode("utf-8")
        return cls(name, lambda: nullcontext(io.BytesIO(data)), len(data))

    def lines(self) -> Iterator[str]:
        """The decoded lines, for a file that passed `check` (a bad byte still raises, as
        `ImportFileError`)."""
        with self._open() as f:
            try:
                yield from _decoded(f)
            except _BadByte as bad:
                raise self._encoding_error(bad, None) from None

    def check(self, limits: ImportLimits, header_check: Callable[[list[str]], list[RowError]],
              header_message: str) -> int:
        """Read the whole file; raise `ImportFileError` for the first thing that refuses it (see
        the module docstring). Returns the number of data rows."""
        if self.size is not None and self.size > limits.max_file_bytes:
            raise too_large(self.name, self.size, limits.max_file_bytes)
        header: list[str] | None = None
        record_end = 0  # the physical line the last complete record ended on
        rows = 0
        with self._open() as f:
            reader = _reader(_decoded(f))
            try:
                for cells in reader:
                    if header is None:
                        header = cells
                        errors = header_check(cells)
                        if errors:
                            raise ImportFileError(header_message, errors, field="file")
                    elif not _blank(cells):
                        self._check_row(cells, header, reader.line_num, record_end + 1, limits)
                        rows += 1
                    record_end = reader.line_num
            except _BadByte as bad:
                raise self._encoding_error(bad, header if bad.line == record_end + 1 else None) from None
            except csv.Error as exc:
                raise _refuse(self.name, record_end + 1, None,
                              f"broken CSV quoting in the record starting on this line ({exc}; read up to line "
                              f"{reader.line_num}): is a quote left open?", "quoting") from None
        if header is None:
            raise _refuse(self.name, 1, None, "the file is empty: an import needs a header line", "empty")
        return rows

    def _check_row(self, cells: list[str], header: list[str], line: int, first: int, limits: ImportLimits) -> None:
        for i, cell in enumerate(cells):
            if len(cell) > limits.max_field_chars:
                column = header[i].strip().lstrip("\ufeff") if i < len(header) else None
                hint = "" if first == line else f" (from line {first}: is a quote left open?)"
                raise _refuse(self.name, line, column,
                              f"a cell of {len(cell):,} characters is over the limit of {limits.max_field_chars:,} "
                              f"(MPDB_IMPORT_MAX_FIELD_CHARS){hint}", "field_size")
        if len(cells) != len(header):
            more = "more" if len(cells) > len(header) else "fewer"
            raise _refuse(self.name, line, None,
                          f"the row has {len(cells)} cells, {more} than the header's {len(header)}", "cell_count")

    def _encoding_error(self, bad: _BadByte, header: list[str] | None) -> ImportFileError:
        byte = bad.raw[bad.exc.start]
        column = None
        if header is not None:
            text = bad.raw.decode("utf-8", errors="replace")
            try:
                cells = next(csv.reader([text]))
            except (csv.Error, StopIteration):
                cells = []
            index = next((i for i, c in enumerate(cells) if "\ufffd" in c), None)
            if index is not None and index < len(header):
                column = header[index].strip().lstrip("\ufeff")
        return _refuse(self.name, bad.line, column,
                       f"byte 0x{byte:02x} is not UTF-8 text: save the file as UTF-8", "encoding")
