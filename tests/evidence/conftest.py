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


def csv_bytes(passed: int, failed: int, edge_passed: int = 0, edge_failed: int = 0, version: str = "1.0",
              suite: str = "nightly", model: str = "bot", run_at: str = "", tags: str = "smoke") -> bytes:
    """A CSV result file with the given counts (edge cases tagged edge-case)."""
    lines = ["case_id,passed,tags,model,model_version,suite,run_at"]
    n = 0
    for count, result, tag in ((passed, "true", tags), (failed, "false", tags),
                               (edge_passed, "true", "edge-case"), (edge_failed, "false", "edge-case")):
        for _ in range(count):
            n += 1
            lines.append(f"c{n},{result},{tag},{model},{version},{suite},{run_at}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def staff(make_user):
    return make_user(role="staff", name="Sam Staff")


@pytest.fixture
def open_item(make_item, staff):
    return make_item(staff, status="open", title="Support bot", model_name="bot", model_version="1.0")
