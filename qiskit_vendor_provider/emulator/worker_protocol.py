"""How the emulator talks to its simulator processes: framed messages over pipes.

A message is a small JSON header and an opaque body (a job's submission on the way in, its
result on the way out), each behind its length. Bodies are passed as the bytes they are
stored as, so a 50 MB job is never parsed or re-encoded on the way through.

>>> import io
>>> pipe = io.BytesIO()
>>> write_message(pipe, {"kind": "job", "job_id": "j1"}, b'{"shots": 5}')
>>> _ = pipe.seek(0)
>>> read_message(pipe)
({'kind': 'job', 'job_id': 'j1'}, b'{"shots": 5}')
>>> read_message(pipe) is None
True
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

_LENGTHS = struct.Struct(">IQ")  # header length, body length


def write_message(stream: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    """Write one message and flush it."""
    encoded = json.dumps(header, separators=(",", ":")).encode()
    stream.write(_LENGTHS.pack(len(encoded), len(body)))
    stream.write(encoded)
    if body:
        stream.write(body)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_message(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next message, or None when the other side has closed the pipe (or died)."""
    lengths = _read_exactly(stream, _LENGTHS.size)
    if lengths is None:
        return None
    header_size, body_size = _LENGTHS.unpack(lengths)
    header = _read_exactly(stream, header_size)
    body = _read_exactly(stream, body_size) if body_size else b""
    if header is None or body is None:
        return None
    return json.loads(header), body
