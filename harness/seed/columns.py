"""Typed numpy columns for generated rows, and their PostgreSQL binary COPY encoding.

A chunk of rows is a set of equally long columns. Encoding never loops over rows in Python:
fixed-width values are written with strided assignments, and variable-length text is
scattered into place with one index array, so the client keeps up with the server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from harness.errors import ConfigError

US_1970_TO_2000 = 946_684_800_000_000
DAYS_1970_TO_2000 = 10_957
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


@dataclass
class Col:
    """kind: text | uuid | int | float | bool | date (days since 1970) | ts (us since 1970)."""

    kind: str
    values: np.ndarray
    null: npt.NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])


def text(values: np.ndarray, null: npt.NDArray[np.bool_] | None = None) -> Col:
    return Col("text", np.asarray(values).astype("S"), null)


@dataclass
class Chunk:
    table: str
    columns: dict[str, Col] = field(default_factory=dict)
    # The rows' time (us since 1970) for a table without a created_at of its own: its parent's
    # (a trip's for trip_tags). Not written; columns the seeder fills by time take it.
    row_time: I64 | None = None

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def new_uuids(rng: np.random.Generator, n: int) -> U8:
    """n version-4 UUIDs as an (n, 16) byte array, drawn from rng (so: deterministic)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)


def uuid_text(raw: U8) -> U8:
    """(n, 16) bytes -> (n, 36) ASCII of the canonical 8-4-4-4-12 form."""
    n = raw.shape[0]
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    out = np.empty((n, 36), dtype=np.uint8)
    keep = np.ones(36, dtype=bool)
    keep[list(_DASHES)] = False
    out[:, keep] = hexed
    out[:, ~keep] = ord("-")
    return out


def uuid_strings(raw: U8) -> list[str]:
    return [bytes(row).decode("ascii") for row in uuid_text(raw)]


def _payload(col: Col, pg_type: str) -> tuple[U8, npt.NDArray[np.int32]]:
    """The column's field bytes (concatenated, non-null only) and per-row lengths (-1 = NULL)."""
    n = len(col)
    null = col.null if col.null is not None else np.zeros(n, dtype=bool)
    fixed: dict[str, str] = {
        "int2": ">i2",
        "int4": ">i4",
        "int8": ">i8",
        "float4": ">f4",
        "float8": ">f8",
        "bool": "u1",
        "date": ">i4",
        "timestamptz": ">i8",
        "timestamp": ">i8",
    }
    if pg_type in fixed:
        values = col.values
        if col.kind == "date":
            values = values.astype(np.int64) - DAYS_1970_TO_2000
        elif col.kind == "ts":
            values = values.astype(np.int64) - US_1970_TO_2000
        elif col.kind == "bool":
            values = values.astype(bool)
        data = np.ascontiguousarray(values[~null].astype(fixed[pg_type])).view(np.uint8)
        width = np.dtype(fixed[pg_type]).itemsize
        return data, np.where(null, -1, width).astype(np.int32)
    if col.kind == "uuid":
        if pg_type == "uuid":
            rows = col.values[~null]
            width = 16
        else:
            rows = uuid_text(col.values[~null])
            width = 36
        return np.ascontiguousarray(rows).reshape(-1), np.where(null, -1, width).astype(np.int32)
    if col.kind != "text":
        raise ConfigError(
            f"cannot write a {col.kind} value into a PostgreSQL {pg_type} column",
            "the target schema differs from the ContraVento contract's Tables section",
        )
    arr = col.values
    width = arr.dtype.itemsize
    lengths = np.char.str_len(arr).astype(np.int64)
    grid = arr.view(np.uint8).reshape(n, width) if width else np.zeros((n, 0), np.uint8)
    mask = (np.arange(width) < lengths[:, None]) & ~null[:, None]
    data = grid[mask]
    out_len = np.where(null, -1, lengths).astype(np.int32)
    if pg_type == "jsonb":  # binary jsonb is a version byte, then the text
        return _prefix_each(data, out_len, 1), np.where(null, -1, out_len + 1).astype(np.int32)
    return data, out_len


def _prefix_each(data: U8, lengths: npt.NDArray[np.int32], byte: int) -> U8:
    real = np.maximum(lengths, 0).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(real + (lengths >= 0))))[:-1]
    out = np.empty(int(real.sum() + (lengths >= 0).sum()), dtype=np.uint8)
    present = lengths >= 0
    out[starts[present]] = byte
    dest = np.repeat(starts + 1, real) + (
        np.arange(real.sum()) - np.repeat(np.cumsum(real) - real, real)
    )
    out[dest] = data
    return out


def encode_binary(columns: list[Col], pg_types: list[str]) -> bytes:
    """Rows of a binary COPY stream (no header/trailer) for these columns."""
    n = len(columns[0])
    payloads = [_payload(c, t) for c, t in zip(columns, pg_types, strict=True)]
    field_sizes = [4 + np.maximum(lengths, 0).astype(np.int64) for _, lengths in payloads]
    row_sizes = 2 + np.sum(field_sizes, axis=0)
    row_starts = np.concatenate(([0], np.cumsum(row_sizes)))[:-1]
    buf = np.empty(int(row_sizes.sum()), dtype=np.uint8)
    buf[row_starts[:, None] + np.arange(2)] = np.frombuffer(
        len(columns).to_bytes(2, "big"), dtype=np.uint8
    )
    position = row_starts + 2
    for (data, lengths), size in zip(payloads, field_sizes, strict=True):
        header = lengths.astype(">i4").view(np.uint8).reshape(n, 4)
        buf[position[:, None] + np.arange(4)] = header
        real = np.maximum(lengths, 0).astype(np.int64)
        if data.size:
            offsets_in_data = np.cumsum(real) - real
            dest = np.repeat(position + 4 - offsets_in_data, real) + np.arange(data.size)
            buf[dest] = data
        position = position + size
    return buf.tobytes()


def fingerprint(chunk: Chunk, digest: hashlib._Hash) -> None:
    """Feed the chunk's exact values (not their encoding for one database) into digest."""
    digest.update(chunk.table.encode())
    for name, col in chunk.columns.items():
        digest.update(name.encode() + b"\0" + col.kind.encode())
        if col.null is not None:
            digest.update(np.ascontiguousarray(col.null).tobytes())
        if col.kind == "text":
            lengths = np.char.str_len(col.values)
            digest.update(lengths.astype(np.int64).tobytes())
            digest.update(b"".join(col.values.tolist()))
        else:
            digest.update(np.ascontiguousarray(col.values).tobytes())
