"""Read an uploaded CSV file as records, whatever produced it, one bad record at a time.

``sniff`` looks at the start of the file once: compression by magic bytes
(gzip, ZIP; not by name), the encoding (a byte-order mark, else valid UTF-8,
else Windows-1252, or Latin-1 when bytes Windows-1252 leaves undefined
appear) and the delimiter (of comma, semicolon, tab and pipe, the one that
splits the first records into the most consistent number of fields).

``RecordReader.records`` then streams every record, header included: the C
``csv`` module parses, fed physical lines by a small generator that counts
them and notices what the parser cannot report per record. A record with
broken quoting, bytes invalid in the encoding or a NUL comes out as a
``BrokenRecord`` and reading goes on. An unterminated quote would otherwise
swallow the rest of the file into one field: after ``max_record_lines``
lines (or at the end of the file) the record that opened it is reported and
parsing restarts on the line after the one where it began.

A quote inside an unquoted field (``Bob "the" Smith``) is kept as text, as
spreadsheets do; only text after a closing quote is broken quoting.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import os
import re
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 20
SNIFF_RECORDS = 50
# Characters of lines read at a time.
BLOCK_HINT = 64 * 1024
# Bytes Windows-1252 does not define; a file holding them is Latin-1.
CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_CONTROL = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}
_SURROGATE = re.compile("[\udc80-\udcff]")
ZIP_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


class UnreadableFile(Exception):
    """The file cannot be read as CSV at all; the message says why, for the user."""


@dataclass(frozen=True)
class Dialect:
    compression: str  # "none" | "gzip" | "zip"
    member: str | None  # the CSV inside a ZIP
    encoding: str
    delimiter: str


class Record(NamedTuple):
    row: int  # the header is row 1, as a spreadsheet numbers it
    line: int  # the physical line where the record starts
    fields: list[str]


class BrokenRecord(NamedTuple):
    row: int
    line: int
    reason: str


class _Runaway(Exception):
    """The current record spans too many lines: an unterminated quote."""


def _zip_member(archive: zipfile.ZipFile) -> str:
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    names = [name for name in names if not name.startswith("__MACOSX/")]
    if not names:
        raise UnreadableFile("The ZIP archive holds no file.")
    for name in names:
        if name.lower().endswith(ZIP_TEXT_SUFFIXES):
            return name
    return names[0]


class _Source:
    """The decompressed bytes of the file, and how far through the file we are."""

    def __init__(self, path: str | os.PathLike[str], compression: str, member: str | None) -> None:
        self.raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.total = os.fstat(self.raw.fileno()).st_size
        self.archive: zipfile.ZipFile | None = None
        self.member_size = 0
        try:
            self.stream: IO[bytes]
            if compression == "gzip":
                self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb")  # type: ignore[assignment]
            elif compression == "zip":
                self.archive = zipfile.ZipFile(self.raw)
                name = member or _zip_member(self.archive)
                self.member_size = self.archive.getinfo(name).file_size
                self.stream = self.archive.open(name)
            else:
                self.stream = self.raw
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            self.close()
            raise UnreadableFile(f"The compressed file cannot be opened: {exc}") from exc

    def done(self, decompressed: int) -> int:
        """Bytes of the file on disk behind what was read so far."""
        if self.archive is not None:
            # A member's stream shares the archive's file handle; scale instead.
            if not self.member_size:
                return self.total
            return min(self.total, self.total * decompressed // self.member_size)
        return min(self.raw.tell(), self.total)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
        self.raw.close()


def _compression(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"PK\x03\x04":
        return "zip"
    if magic in (b"PK\x05\x06",):
        raise UnreadableFile("The ZIP archive is empty.")
    return "none"


def _encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut by the end of the sample is not an error.
        if not (exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3):
            return "latin-1" if CP1252_UNDEFINED.intersection(sample) else "cp1252"
    return "utf-8"


def _looks_binary(sample: bytes, encoding: str) -> bool:
    if encoding == "utf-16":
        return False
    head = sample[:8192]
    controls = sum(1 for byte in head if byte in _CONTROL)
    return controls > max(2, len(head) // 100)


def _delimiter(text: str) -> str:
    lines = text.splitlines(keepends=True)[: SNIFF_RECORDS * 2]
    if len(lines) > 1 and len(text) >= SAMPLE_BYTES // 2:
        lines = lines[:-1]  # the sample may cut the last line
    best = (-1.0, 0, 0)
    chosen = CANDIDATE_DELIMITERS[0]
    for preference, delimiter in enumerate(CANDIDATE_DELIMITERS):
        counts = []
        try:
            for fields in itertools.islice(csv.reader(lines, delimiter=delimiter), SNIFF_RECORDS):
                if fields:
                    counts.append(len(fields))
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistency = round(counts.count(mode) / len(counts), 2)
        score = (consistency, mode, -preference)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def sniff(path: str | os.PathLike[str]) -> Dialect:
    """How to read the file; UnreadableFile if it is empty, binary or a broken archive."""
    compression = _compression(path)
    member = None
    source = _Source(path, compression, None)
    try:
        if source.archive is not None:
            member = _zip_member(source.archive)
        try:
            sample = source.stream.read(SAMPLE_BYTES)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise UnreadableFile(f"The compressed file is damaged: {exc}") from exc
    finally:
        source.close()
    if not sample.strip():
        raise UnreadableFile("The file is empty.")
    encoding = _encoding(sample)
    if _looks_binary(sample, encoding):
        raise UnreadableFile(
            "This does not look like a CSV file: it holds binary data (a spreadsheet? "
            "Save it as CSV first)."
        )
    text = sample.decode(encoding, errors="replace")
    return Dialect(
        compression=compression, member=member, encoding=encoding, delimiter=_delimiter(text)
    )


class _Lines:
    """The file's physical lines, read in blocks (C speed), checked a block at a
    time, with the lines since the last complete record kept for a restart."""

    def __init__(self, text: IO[str], source: _Source, *, check_bytes: bool) -> None:
        self.text = text
        self.source = source
        self.check_bytes = check_bytes
        self.next_number = 1
        self.keep_from = 1
        self.blocks: deque[tuple[int, list[str]]] = deque()
        # Line numbers holding invalid bytes or a NUL, with the reason.
        self.flaws: dict[int, str] = {}
        self.decompressed = 0

    def _read_block(self) -> list[str]:
        block = self.text.readlines(BLOCK_HINT)
        if not block:
            return block
        first = self.next_number
        self.next_number += len(block)
        blocks = self.blocks
        blocks.append((first, block))
        while len(blocks) > 1 and blocks[1][0] <= self.keep_from:
            blocks.popleft()
        joined = "".join(block)
        self.decompressed += len(joined)
        if not joined.isascii() and self.check_bytes and _SURROGATE.search(joined):
            for offset, line in enumerate(block):
                if _SURROGATE.search(line):
                    self.flaws[first + offset] = "bytes not valid in the file's encoding"
        if "\x00" in joined:
            for offset, line in enumerate(block):
                if "\x00" in line:
                    self.flaws[first + offset] = "a NUL byte in the row"
        return block

    def lines(self) -> Iterator[str]:
        while block := self._read_block():
            yield from block

    def again_from(self, number: int) -> Iterator[str]:
        """The lines from ``number`` on: those kept, then the rest of the file."""
        for first, block in list(self.blocks):
            if first + len(block) > number:
                yield from block[max(number - first, 0) :]
        yield from self.lines()

    def flaw_in(self, first: int, last: int) -> str:
        flaws = self.flaws
        for number in range(first, last + 1):
            if number in flaws:
                return flaws.pop(number)
        return ""


class RecordReader:
    """Streams the records of a file; ``bytes_done`` / ``bytes_total`` say how far
    through the file on disk the records read so far reach."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        dialect: Dialect,
        *,
        max_record_lines: int = 50,
    ) -> None:
        self.path = path
        self.dialect = dialect
        self.max_record_lines = max_record_lines
        self.bytes_done = 0
        self.bytes_total = 0

    def records(self) -> Iterator[Record | BrokenRecord]:
        source = _Source(self.path, self.dialect.compression, self.dialect.member)
        self.bytes_total = source.total
        try:
            text = io.TextIOWrapper(
                source.stream, encoding=self.dialect.encoding, errors="surrogateescape", newline=""
            )
            lines = _Lines(text, source, check_bytes=self.dialect.encoding != "latin-1")
            yield from self._parse(lines, source)
            self.bytes_done = source.total
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise UnreadableFile(f"The file could not be read to its end: {exc}") from exc
        finally:
            source.close()

    def _parse(self, lines: _Lines, source: _Source) -> Iterator[Record | BrokenRecord]:
        row = 0
        feed = lines.lines()
        # The absolute number of the line before the first one this reader gets.
        base = 0
        delimiter = self.dialect.delimiter
        longest = self.max_record_lines
        while True:
            reader = csv.reader(feed, delimiter=delimiter, strict=True)
            last = base
            try:
                flaws = lines.flaws
                for fields in reader:
                    start = last + 1
                    last = base + reader.line_num
                    if not fields:
                        continue  # a blank line is no row
                    row += 1
                    if last - start >= longest:
                        raise _Runaway
                    if flaws and (flaw := lines.flaw_in(start, last)):
                        yield BrokenRecord(row, start, flaw)
                    else:
                        yield Record(row, start, fields)
                    if not row & 1023:
                        # Also lets go of the lines kept for a restart.
                        lines.keep_from = last + 1
                        self.bytes_done = source.done(lines.decompressed)
                return
            except (csv.Error, _Runaway) as exc:
                if isinstance(exc, csv.Error):
                    row += 1
                    start = last + 1
                text = str(exc)
                if isinstance(exc, _Runaway) or "end of data" in text or "field limit" in text:
                    reason = f"unterminated quoted field (the quote opened on line {start})"
                else:
                    reason = f"broken quoting: {text}"
                yield BrokenRecord(row, start, reason)
                # Start again on the line after the one the record began on.
                lines.flaw_in(start, start)
                base = start
                feed = lines.again_from(start + 1)
