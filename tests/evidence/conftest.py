"""Evidence fixtures: the sample files, and builders for awkward inputs (zips with zstd members)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import zstandard

FIXTURES = Path(__file__).with_name("fixtures")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_zip(members: dict[str, bytes], method: int = 93) -> bytes:
    """A zip whose members are compressed with ``method`` (93 Zstandard, 8 deflate, 0 stored),
    written by hand because Python's zipfile cannot write method 93."""
    out, central = bytearray(), bytearray()
    for name, content in members.items():
        if method == 93:
            packed = zstandard.ZstdCompressor().compress(content)
        elif method == 8:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = compressor.compress(content) + compressor.flush()
        else:
            packed = content
        crc = zlib.crc32(content)
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 63, 0, method, 0, 0x21, crc, len(packed),
                           len(content), len(encoded), 0) + encoded + packed
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 63, 63, 0, method, 0, 0x21, crc,
                               len(packed), len(content), len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
