"""Reading uploaded CSV files: encodings, delimiters, compression, and bad records one at a time."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

import pytest

from subscribers.imports.read import (
    SAMPLE_BYTES,
    BrokenRecord,
    Dialect,
    Record,
    RecordReader,
    UnreadableFile,
    sniff,
)


def records(path: Path, **options: int) -> list[Record | BrokenRecord]:
    return list(RecordReader(path, sniff(path), **options).records())


def write(tmp_path: Path, data: bytes, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_with_and_without_a_bom(tmp_path: Path) -> None:
    text = "email,name\nzoe@example.com,Zoë Ångström\n"
    plain = write(tmp_path, text.encode(), "plain.csv")
    bom = write(tmp_path, b"\xef\xbb\xbf" + text.encode(), "bom.csv")
    assert sniff(plain).encoding == "utf-8"
    assert sniff(bom).encoding == "utf-8-sig"
    for path in (plain, bom):
        assert records(path) == [
            Record(1, 1, ["email", "name"]),
            Record(2, 2, ["zoe@example.com", "Zoë Ångström"]),
        ]


def test_windows_1252_and_latin_1_are_told_apart(tmp_path: Path) -> None:
    cp1252 = write(tmp_path, "email;name\nm@example.de;Müller €\n".encode("cp1252"), "a.csv")
    # 0x81 is undefined in Windows-1252: such a file can only be Latin-1.
    latin1 = write(tmp_path, b"email;name\nm@example.de;M\xfcller \x81\n", "b.csv")
    assert sniff(cp1252) == Dialect("none", None, "cp1252", ";")
    assert sniff(latin1).encoding == "latin-1"
    assert records(cp1252)[1] == Record(2, 2, ["m@example.de", "Müller €"])
    assert records(latin1)[1] == Record(2, 2, ["m@example.de", "Müller \x81"])


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    rows = [
        ["email", "name", "score"],
        ["a@example.com", "A, Jr.", "1,5"],
        ["b@example.com", "B", "2"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path = write(tmp_path, buffer.getvalue().encode(), f"{name}.csv")
    assert sniff(path).delimiter == delimiter
    assert [r.fields for r in records(path) if isinstance(r, Record)] == rows


def test_quoted_fields_may_hold_newlines_and_rows_are_numbered_as_a_spreadsheet_shows(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        b'email,note\r\na@example.com,"two\r\nlines"\r\n\r\nb@example.com,"say ""hi"""\r\n',
    )
    assert records(path) == [
        Record(1, 1, ["email", "note"]),
        Record(2, 2, ["a@example.com", "two\r\nlines"]),
        Record(3, 5, ["b@example.com", 'say "hi"']),
    ]


def test_gzip_and_zip_files_are_read_by_their_content_not_their_name(tmp_path: Path) -> None:
    text = b"email\na@example.com\n"
    gzipped = write(tmp_path, gzip.compress(text), "people.csv")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("README", "not this one")
        zipped.writestr("export/people.csv", text)
    zipped_path = write(tmp_path, archive.getvalue(), "export.dat")
    assert sniff(gzipped).compression == "gzip"
    assert sniff(zipped_path) == Dialect("zip", "export/people.csv", "utf-8", ",")
    for path in (gzipped, zipped_path):
        assert records(path) == [Record(1, 1, ["email"]), Record(2, 2, ["a@example.com"])]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary data"),
        (b"PK\x03\x04garbage", "cannot be opened"),
    ],
)
def test_what_is_not_csv_is_refused_with_a_reason(
    tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(UnreadableFile, match=message):
        sniff(write(tmp_path, data))


def test_broken_quoting_is_reported_and_the_following_rows_are_still_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b'email,name\na@example.com,"Ann"x\nb@example.com,"Bob\nc@example.com,Cy\nd@example.com,Di\n',
    )
    assert records(path, max_record_lines=2) == [
        Record(1, 1, ["email", "name"]),
        BrokenRecord(2, 2, "broken quoting: ',' expected after '\"'"),
        BrokenRecord(3, 3, "unterminated quoted field (the quote opened on line 3)"),
        Record(4, 4, ["c@example.com", "Cy"]),
        Record(5, 5, ["d@example.com", "Di"]),
    ]


def test_an_unterminated_quote_at_the_end_does_not_lose_the_rows_it_swallowed(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b'email,name\na@example.com,"open\nb@example.com,B\n')
    assert records(path) == [
        Record(1, 1, ["email", "name"]),
        BrokenRecord(2, 2, "unterminated quoted field (the quote opened on line 2)"),
        Record(3, 3, ["b@example.com", "B"]),
    ]


def test_a_quote_inside_an_unquoted_field_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, b'email,name\na@example.com,Bob "the" Smith\n')
    assert records(path)[1] == Record(2, 2, ["a@example.com", 'Bob "the" Smith'])


def test_invalid_bytes_and_nul_break_only_their_own_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "email,name\nzoë@example.com,Zoë\n".encode()
        + b"x@example.com,\xff\xfe\nnul@example.com,a\x00b\ny@example.com,Y\n",
    )
    # In a file this small the bad bytes make it Windows-1252; read as UTF-8
    # (as a large file whose sample is valid UTF-8 would be), only they break.
    assert sniff(path).encoding == "cp1252"
    big = write(
        tmp_path,
        path.read_bytes().replace(b"email,name\n", b"email,name\n" + b"p@example.com,P\n" * 10),
        "b.csv",
    )
    dialect = Dialect("none", None, "utf-8", ",")
    read = list(RecordReader(big, dialect).records())
    assert read[-3:] == [
        BrokenRecord(13, 13, "bytes not valid in the file's encoding"),
        BrokenRecord(14, 14, "a NUL byte in the row"),
        Record(15, 15, ["y@example.com", "Y"]),
    ]


def test_a_file_larger_than_the_sample_is_read_to_the_end_with_progress(tmp_path: Path) -> None:
    line = b"someone.with.a.long.address@example.com,Some One\n"
    count = SAMPLE_BYTES // len(line) * 2
    path = write(tmp_path, b"email,name\n" + line * count)
    reader = RecordReader(path, sniff(path))
    total = sum(1 for _ in reader.records())
    assert total == count + 1
    assert reader.bytes_done == reader.bytes_total == path.stat().st_size
