"""Dump files -> checked, decoded ``</page>`` records: the one reader both engines use.

A MediaWiki export is read in three steps, each a pure function over bytes so that the local
engine, a Spark task and the Spark driver run exactly the same code:

1. :func:`probe_dump` looks at the first and last bytes of a file (``head``, ``tail``, its
   size) *before any work*: the compression (by suffix), the text encoding (a byte-order mark
   or the XML rules of Appendix F: UTF-8, UTF-16 LE/BE), that the text is a ``<mediawiki>``
   export at all, its ``<siteinfo>`` (:func:`decoded_head`), and whether the file is complete:
   a bzip2 file must end with the bzip2 end-of-stream marker, and its last stream (or, in a
   single-stream file, its last block) must end the XML with ``</mediawiki>``; a plain file
   must end with ``</mediawiki>``. gzip cannot be checked from its ends (its trailer is a CRC
   of everything), so it is checked while read.
2. :class:`DumpReader` decompresses (bzip2 multistream, multi-member gzip, plain) with
   Python's own decompressors, decodes strictly, and splits the text on ``</page>`` -- the
   records Hadoop's text reader makes with ``lineSep='</page>'``. Undecodable bytes are a
   :class:`DumpError` naming the file and the byte offset in the decompressed XML.
3. At the end of the input the reader checks that the compressed stream was closed and that
   the text after the last ``</page>`` holds ``</mediawiki>``. Otherwise the file is
   *truncated* (an interrupted download): by default a :class:`TruncatedDumpError` naming the
   file and how far it got; with ``allow_truncated`` every complete page read before the cut
   is kept (as ``bzcat`` does: bzip2 data is decoded block by block, so the pages of the last,
   incomplete block are lost) and :attr:`DumpReader.report` tells how many pages and bytes
   were kept.
"""

from __future__ import annotations

import bz2
import codecs
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO
from urllib.parse import urlparse

PAGE_START = "<page>"
PAGE_END = "</page>"
FOOTER = "</mediawiki>"
BZ2, GZIP, PLAIN = "bz2", "gzip", "plain"
HEAD_BYTES = 2 << 20  # raw bytes read for the head: the first bzip2 block (<= 900 kB of text) fits
TAIL_BYTES = 1 << 20  # raw bytes read for the tail: Wikimedia's last multistream stream is tiny
HEAD_CHARS = 1 << 16  # decoded characters that must hold the <siteinfo>
_CHUNK = 1 << 20
_BZ2_EOS_MAGIC = 0x177245385090  # 48-bit end-of-stream marker, then a 32-bit CRC, then < 8 pad bits
_BZ2_STREAM_START = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")  # block or end-of-stream magic
_XML_DECL = re.compile(r"<\?xml[^>]*\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


class DumpError(ValueError):
    """A dump file that cannot be read as a MediaWiki export: the message names the file."""


class TruncatedDumpError(DumpError):
    """A dump file that ends before its end: an interrupted download or a cut file."""


def compression_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".bz2"):
        return BZ2
    if lower.endswith(".gz"):
        return GZIP
    return PLAIN


# ---------------------------------------------------------------- encodings

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def sniff_encoding(path: str, head: bytes) -> str:
    """Encoding of the decompressed XML from its first bytes (XML 1.0 Appendix F).

    A byte-order mark decides (UTF-8, UTF-16 LE/BE; UTF-32 is refused); without one, ``<`` as
    ``3C 00``/``00 3C`` means UTF-16 LE/BE, otherwise UTF-8. The mark itself is decoded as
    U+FEFF at the start of the first record, as Hadoop's text reader leaves it. An ``encoding=``
    declaration naming anything but UTF-8/UTF-16 is refused: MediaWiki only writes UTF-8.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            encoding = name
            break
    else:
        if head[:2] == b"<\x00":
            encoding = "utf-16-le"
        elif head[:2] == b"\x00<":
            encoding = "utf-16-be"
        else:
            encoding = "utf-8"
    if encoding == "utf-32":
        raise DumpError(f"{path}: UTF-32 text (byte-order mark at byte 0); MediaWiki exports are UTF-8: "
                        "convert it with `iconv -f UTF-32 -t UTF-8`")
    text = head[:512].decode(encoding, errors="ignore")
    declared = _XML_DECL.search(text)
    if declared and declared.group(1).lower().replace("_", "-") not in ("utf-8", "utf8", "utf-16", "utf16"):
        raise DumpError(f"{path}: declares encoding {declared.group(1)!r}; MediaWiki exports are UTF-8 "
                        "(convert it with iconv first)")
    return encoding


def _decode_error(path: str, encoding: str, offset: int, exc: UnicodeDecodeError) -> DumpError:
    bad = exc.object[exc.start:exc.end][:4].hex(" ")
    return DumpError(f"{path}: not valid {encoding.upper().replace('-SIG', '')} at byte {offset:,} of the "
                     f"decompressed XML (bytes {bad}: {exc.reason}); MediaWiki exports are UTF-8")


# ---------------------------------------------------------------- decompression

class _Decompressor:
    """Streaming decompression of one file, bzip2 multistream and multi-member gzip included."""

    def __init__(self, path: str, compression: str):
        self.path, self.compression = path, compression
        self.consumed = 0  # compressed bytes fed
        self._new()

    def _new(self):
        if self.compression == BZ2:
            self._d = bz2.BZ2Decompressor()
        elif self.compression == GZIP:
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            self._d = None

    def feed(self, data: bytes) -> bytes:
        if self._d is None:
            self.consumed += len(data)
            return data
        out = []
        start = self.consumed
        self.consumed += len(data)
        while data:
            try:
                out.append(self._d.decompress(data))
            except (OSError, EOFError, zlib.error) as exc:
                raise DumpError(f"{self.path}: not valid {self.compression} data near compressed byte "
                                f"{start:,} ({exc})") from None
            if not self.eof:
                break
            data = self._d.unused_data
            start = self.consumed - len(data)
            if self.compression == GZIP and not data.strip(b"\x00"):
                break  # zero padding after the last gzip member is allowed
            if data:
                self._new()
        return b"".join(out)

    @property
    def eof(self) -> bool:
        return self._d is None or self._d.eof


# ---------------------------------------------------------------- reading records

@dataclass
class FileReport:
    """What was read from one dump file (``_stats.json``, per truncated file)."""

    path: str
    pages: int = 0  # complete pages read (records holding <page>)
    xml_bytes: int = 0  # decompressed bytes kept (up to the end of the last complete page when cut)
    compressed_bytes: int = 0  # bytes of the file read
    truncated: bool = False
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class DumpReader:
    """The ``</page>`` records of one dump file, decoded and checked (see the module docstring)."""

    def __init__(self, raw: BinaryIO, path: str, compression: str | None = None, allow_truncated: bool = False,
                 chunk_bytes: int = _CHUNK):
        self.raw, self.path = raw, path
        self.compression = compression or compression_of(path)
        self.allow_truncated = allow_truncated
        self.chunk_bytes = chunk_bytes
        self.report = FileReport(path)
        self.encoding: str | None = None

    def _text_chunks(self) -> Iterator[str]:
        d = _Decompressor(self.path, self.compression)
        decoder = None
        decoded = 0  # decompressed bytes handed to the decoder
        while True:
            data = self.raw.read(self.chunk_bytes)
            if not data:
                break
            out = d.feed(data)
            if not out:
                continue
            if decoder is None:
                self.encoding = sniff_encoding(self.path, out)
                decoder = codecs.getincrementaldecoder(self.encoding)(errors="strict")
            try:
                text = decoder.decode(out)
            except UnicodeDecodeError as exc:
                raise _decode_error(self.path, self.encoding, decoded + exc.start, exc) from None
            decoded += len(out)
            self.report.compressed_bytes = d.consumed
            yield text
        self.report.compressed_bytes = d.consumed
        self._decoded = decoded
        self._pending = len(decoder.getstate()[0]) if decoder is not None else 0
        if decoder is None:
            raise DumpError(f"{self.path}: empty file (no XML after decompression)")
        if not d.eof:
            self._cut = (f"the {self.compression} stream ends without its end-of-stream marker after "
                         f"{d.consumed:,} compressed bytes")
        elif self._pending:
            self._cut = f"the file ends inside a {self.encoding} character"
        else:
            self._cut = ""

    def records(self) -> Iterator[str]:
        """Records as Hadoop's text reader splits them (``lineSep='</page>'``), footer included."""
        buffer = ""
        head_checked = False
        for text in self._text_chunks():
            buffer += text
            if not head_checked:
                if len(buffer) < HEAD_CHARS and PAGE_END not in buffer:
                    continue
                check_mediawiki(self.path, buffer)
                head_checked = True
            parts = buffer.split(PAGE_END)
            buffer = parts.pop()
            for part in parts:
                self.report.pages += PAGE_START in part
                yield part
        if not head_checked:
            check_mediawiki(self.path, buffer)
        cut = self._cut or ("" if FOOTER in buffer else f"the XML ends without {FOOTER}")
        self.report.xml_bytes = self._decoded
        if cut:
            self.report.truncated, self.report.reason = True, cut
            self.report.xml_bytes = self._decoded - self._pending - len(buffer.encode(self.encoding or "utf-8"))
            if not self.allow_truncated:
                raise TruncatedDumpError(
                    f"{self.path}: truncated: {cut}, inside page {self.report.pages + 1:,} "
                    f"({self.report.pages:,} complete pages, {self.report.xml_bytes:,} bytes of XML before the "
                    "cut); download it again, or pass --allow-truncated to keep the complete pages")
            return  # the partial page after the last </page> is dropped
        if buffer:
            yield buffer


def check_mediawiki(path: str, text: str) -> None:
    """Refuse text that is not a MediaWiki XML export (checked on its first characters)."""
    start = text.lstrip("\ufeff \t\r\n")
    if start.startswith("<?xml"):
        start = start[start.find("?>") + 2:].lstrip(" \t\r\n") if "?>" in start else ""
    if start.startswith("<mediawiki") or (not start and not text.strip()):
        if not start:
            raise DumpError(f"{path}: empty file (no XML)")
        return
    offset = len(text) - len(start)
    raise DumpError(f"{path}: not a MediaWiki XML export: expected <mediawiki at character {offset:,}, "
                    f"found {start[:40]!r}")


# ---------------------------------------------------------------- probing a file from its two ends

@dataclass(frozen=True)
class DumpProbe:
    """What the ends of a file tell before reading it (see :func:`probe_dump`)."""

    path: str
    compression: str
    encoding: str
    head: str  # the first decoded characters (holds <siteinfo>)
    size: int
    truncated: str  # "" when complete or unknown, else why it is cut

    @property
    def hadoop_readable(self) -> bool:
        """True when Hadoop's text reader gives the same records as :class:`DumpReader`:
        UTF-8, not gzip (not splittable anyway and only checkable by reading it), not cut."""
        return self.compression != GZIP and self.encoding == "utf-8" and not self.truncated


def decoded_head(path: str, head: bytes, compression: str) -> tuple[str, str]:
    """(encoding, first characters) of a file from its first raw bytes; checks it is MediaWiki XML."""
    d = _Decompressor(path, compression)
    out = b""
    for i in range(0, len(head), 1 << 16):
        out += d.feed(head[i:i + (1 << 16)])
        if len(out) >= 4 * HEAD_CHARS:
            break
    if not out:
        raise DumpError(f"{path}: no data could be decompressed from its first {len(head):,} bytes")
    encoding = sniff_encoding(path, out)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(out)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc.start, exc) from None
    check_mediawiki(path, text)
    return encoding, text


def bz2_has_end_marker(tail: bytes) -> bool:
    """True when the last bits of a bzip2 file are its end-of-stream marker: the 48-bit magic
    0x177245385090, the 32-bit combined CRC, then 0-7 padding bits to the byte boundary."""
    if len(tail) < 10:
        return False
    value = int.from_bytes(tail[-11:], "big")
    return any((value >> (pad + 32)) & ((1 << 48) - 1) == _BZ2_EOS_MAGIC for pad in range(8))


def _tail_text(data: bytes, encoding: str) -> str:
    """Decode a tail that may start inside a character (its first bytes are skipped as needed)."""
    if encoding.startswith("utf-16"):
        data = data[len(data) % 2:]
    return data.decode(encoding, errors="replace")


_BZ2_BLOCK_MAGIC = 0x314159265359  # 48 bits, bit-aligned at the start of every compressed block


def _bz2_last_block_text(head: bytes, tail: bytes) -> bytes | None:
    """Decompressed text of the last bzip2 *block* in ``tail``, or None if none is found.

    Blocks start at any bit; the last one runs up to the end-of-stream marker. A stream holding
    just that block is rebuilt -- the file's header ``BZh<level>``, the block's bits, the
    end-of-stream magic and, as the combined CRC of a one-block stream, the block's own CRC
    (the 32 bits after its magic), padded to a byte -- and decompressed: this checks the end of
    a single-stream file (whose only stream header is at byte 0) from its tail alone."""
    if not head.startswith(b"BZh") or len(tail) < 16:
        return None
    bits = len(tail) * 8
    value = int.from_bytes(tail, "big")
    pad = next((p for p in range(8) if (value >> (p + 32)) & ((1 << 48) - 1) == _BZ2_EOS_MAGIC), None)
    if pad is None:
        return None
    end = bits - pad - 80  # bit position of the end-of-stream magic
    magic = _BZ2_BLOCK_MAGIC.to_bytes(6, "big")
    starts = []
    for shift in range(8):  # find the magic at every bit alignment
        shifted = (value << shift).to_bytes(len(tail) + 1, "big")
        at = shifted.rfind(magic)
        while at >= 0:
            pos = 8 * at - 8 + shift  # bit position in tail (the shifted copy has one more leading byte)
            if 0 <= pos < end - 80:
                starts.append(pos)
                break
            at = shifted.rfind(magic, 0, at)
    for pos in sorted(starts, reverse=True):
        n = end - pos  # bits of the block (magic, CRC, data)
        block = (value >> (bits - end)) & ((1 << n) - 1)
        crc = (block >> (n - 80)) & 0xFFFFFFFF
        total = 32 + n + 80
        stream = (int.from_bytes(head[:4], "big") << (n + 80)) | (block << 80) | (_BZ2_EOS_MAGIC << 32) | crc
        stream <<= (-total) % 8
        try:
            return bz2.decompress(stream.to_bytes((total + 7) // 8, "big"))
        except (OSError, ValueError):
            continue  # a chance match inside compressed data
    return None


def _bz2_last_stream_text(path: str, tail: bytes) -> bytes | None:
    """Decompressed text of the last bzip2 stream starting inside ``tail``, or None if none does."""
    for match in reversed(list(_BZ2_STREAM_START.finditer(tail))):
        data, out = tail[match.start():], []
        try:
            while data:
                d = bz2.BZ2Decompressor()
                out.append(d.decompress(data))
                if not d.eof:
                    break
                data = d.unused_data
        except OSError:
            continue  # a chance match inside compressed data
        if not data and b"".join(out):
            return b"".join(out)
    return None


def probe_dump(path: str, head: bytes, tail: bytes, size: int, compression: str | None = None) -> DumpProbe:
    """Check a dump from its first ``HEAD_BYTES`` and last ``TAIL_BYTES`` (see the module docstring).

    Raises DumpError for files that are not MediaWiki XML or not decodable at their start.
    """
    compression = compression or compression_of(path)
    if size == 0:
        raise DumpError(f"{path}: empty file")
    encoding, text = decoded_head(path, head, compression)
    truncated = ""
    if compression == BZ2:
        if not bz2_has_end_marker(tail):
            truncated = (f"the bz2 stream ends without its end-of-stream marker after {size:,} compressed bytes "
                         "(an interrupted download?)")
        else:
            last = _bz2_last_stream_text(path, tail)
            if last is None:  # a single-stream file: check its last block
                last = _bz2_last_block_text(head, tail)
            if last is not None and FOOTER not in _tail_text(last[-256:], encoding):
                truncated = f"the XML ends without {FOOTER}"
    elif compression == PLAIN:
        whole = size <= len(head)
        ending = _tail_text(head if whole else tail[-256:], encoding)
        if FOOTER not in ending[-256:]:
            truncated = f"the XML ends without {FOOTER} after {size:,} bytes"
    return DumpProbe(path, compression, encoding, text[:HEAD_CHARS], size, truncated)


def text_file_cut(path: str, tail: bytes, size: int) -> str:
    """Why a plain-text input (``--plain-text``) is cut, from its tail ("" if complete or unknown)."""
    if compression_of(path) == BZ2 and not bz2_has_end_marker(tail):
        return (f"the bz2 stream ends without its end-of-stream marker after {size:,} compressed bytes "
                "(an interrupted download?)")
    return ""


def truncated_error(probe: DumpProbe) -> TruncatedDumpError:
    return TruncatedDumpError(f"{probe.path}: truncated: {probe.truncated}; download it again, or pass "
                              "--allow-truncated to keep every complete page before the cut")


# ---------------------------------------------------------------- opening files

def is_local(path: str) -> bool:
    return urlparse(path).scheme in ("", "file")


def local_path(path: str) -> str:
    parsed = urlparse(path)
    return parsed.path if parsed.scheme == "file" else path


def open_raw(path: str) -> BinaryIO:
    """The raw (still compressed) bytes of a file: local paths and ``file:`` URIs directly, other
    URIs (``hdfs://``, ``s3://``, ``gs://``) through ``pyarrow.fs`` (Spark tasks read gzip, UTF-16 and,
    with --allow-truncated, cut files this way)."""
    if is_local(path):
        return open(local_path(path), "rb")
    from pyarrow import fs

    filesystem, inner = fs.FileSystem.from_uri(path)
    return filesystem.open_input_stream(inner)


def end_ranges(size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of the bytes :func:`probe_dump` looks at: the first ``HEAD_BYTES``
    and the last ``TAIL_BYTES`` of a file of ``size`` bytes (both engines read exactly these)."""
    return [(0, min(size, HEAD_BYTES)), (max(0, size - TAIL_BYTES), min(size, TAIL_BYTES))]


def read_ends(path: str) -> tuple[bytes, bytes, int]:
    """(first ``HEAD_BYTES``, last ``TAIL_BYTES``, size) of a file this process can open."""
    if is_local(path):
        size = os.path.getsize(local_path(path))
        with open_raw(path) as f:
            out = []
            for offset, length in end_ranges(size):
                f.seek(offset)
                out.append(f.read(length))
        return out[0], out[1], size
    with open_raw(path) as f:  # a pyarrow input stream: no seek, read it through
        data = f.read()
    head, tail = (data[offset:offset + length] for offset, length in end_ranges(len(data)))
    return head, tail, len(data)


def probe_local(path: str) -> DumpProbe:
    """:func:`probe_dump` on a file this process can open."""
    return probe_dump(path, *read_ends(path))


_NEWLINE = re.compile(r"\r\n|\r|\n")


def iter_text_lines(raw: BinaryIO, path: str, compression: str | None = None,
                    chunk_bytes: int = _CHUNK) -> Iterator[str]:
    """Lines (``\\n``, ``\\r\\n`` or ``\\r``, as Spark's text reader) of a UTF-8 text file,
    decompressed; undecodable bytes are a DumpError naming the file and byte offset."""
    d = _Decompressor(path, compression or compression_of(path))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    decoded, buffer = 0, ""
    while True:
        data = raw.read(chunk_bytes)
        if not data:
            break
        out = d.feed(data)
        try:
            buffer += decoder.decode(out)
        except UnicodeDecodeError as exc:
            raise _decode_error(path, "utf-8", decoded + exc.start, exc) from None
        decoded += len(out)
        lines = _NEWLINE.split(buffer[:-1]) if buffer.endswith("\r") else _NEWLINE.split(buffer)
        buffer = (lines.pop() + "\r") if buffer.endswith("\r") else lines.pop()
        yield from lines
    try:
        buffer += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, "utf-8", decoded + exc.start, exc) from None
    if not d.eof:
        raise TruncatedDumpError(f"{path}: truncated: the {d.compression} stream ends without its end-of-stream "
                                 f"marker after {d.consumed:,} compressed bytes (an interrupted download?)")
    if buffer:
        yield from _NEWLINE.split(buffer)
