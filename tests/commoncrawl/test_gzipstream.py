"""The verified multi-member gzip stream: content, member offsets, truncation and corruption."""

import gzip
import io
import os
import random

import pytest

from curation.commoncrawl.gzipstream import CorruptInput, GzipMembers, TruncatedInput

from .hostile import member_starts


def members(n=40, seed=0):
    rng = random.Random(seed)
    parts = [os.urandom(rng.randrange(0, 3000)) + b"record %d\n" % i * rng.randrange(1, 200) for i in range(n)]
    return parts, b"".join(gzip.compress(p, mtime=0) for p in parts)


def read_all(stream, size=777):
    out = []
    while chunk := stream.read(size):
        out.append(chunk)
    return b"".join(out)


@pytest.mark.parametrize("read_bytes", [7, 100, 4096, 1 << 20])
def test_decompresses_every_member(read_bytes):
    parts, data = members()
    stream = GzipMembers(io.BytesIO(data), read_bytes=read_bytes)
    assert stream.compressed and read_all(stream) == b"".join(parts)
    assert stream.members == len(parts) and stream.compressed_bytes_read == len(data)


def test_maps_positions_to_member_offsets():
    parts, data = members()
    stream = GzipMembers(io.BytesIO(data))
    read_all(stream)
    starts = member_starts(data)
    u = 0
    for part, c in zip(parts, starts):
        assert stream.compressed_offset(u) == c
        if part:
            assert stream.compressed_offset(u + len(part) - 1) == c
        u += len(part)


def test_tell_counts_delivered_bytes():
    parts, data = members(5)
    stream = GzipMembers(io.BytesIO(data))
    first = stream.read(10)
    assert stream.tell() == len(first) == 10


@pytest.mark.parametrize("cut", [1, 5, 11, 200, -9, -1])
def test_truncated_member_raises(cut):
    parts, data = members(10)
    last = member_starts(data)[-1]
    position = last + cut if cut > 0 else len(data) + cut
    stream = GzipMembers(io.BytesIO(data[:position]))
    with pytest.raises(TruncatedInput):
        read_all(stream)


def test_cut_exactly_at_a_member_boundary_is_a_shorter_valid_file():
    parts, data = members(10)
    boundary = member_starts(data)[6]
    assert read_all(GzipMembers(io.BytesIO(data[:boundary]))) == b"".join(parts[:6])


def test_corrupt_data_and_crc_raise():
    parts, data = members(10)
    end = member_starts(data)[5]
    flipped = bytearray(data)
    flipped[end - 6] ^= 0xFF  # inside the CRC-32 / ISIZE trailer of member 4
    with pytest.raises(CorruptInput):
        read_all(GzipMembers(io.BytesIO(bytes(flipped))))
    garbage = data + b"\x1f\x8bnot a gzip member at all"
    with pytest.raises(CorruptInput):
        read_all(GzipMembers(io.BytesIO(garbage)))
    zeros = data + b"\x00" * 20  # trailing padding is not silently accepted either
    with pytest.raises(CorruptInput):
        read_all(GzipMembers(io.BytesIO(zeros)))


def test_uncompressed_input_passes_through():
    raw = b"WARC/1.0\r\n" + os.urandom(5000)
    stream = GzipMembers(io.BytesIO(raw), read_bytes=1000)
    assert not stream.compressed and read_all(stream) == raw
    assert stream.compressed_offset(1234) == 1234
    assert read_all(GzipMembers(io.BytesIO(b""))) == b""
