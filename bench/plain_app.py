"""The baseline for bench/upload.py: the same multipart reader, no encryption.

It writes each file part to disk as plaintext, exactly as fast as a portal
that did not care about its sources could. Never deploy this.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request

from portal.multipart import FileChunk, FileEnd, FileStart, Limits, boundary_of, read_parts

app = Flask(__name__)
OUT = Path(os.environ.get("BENCH_PLAIN_DIR", "/tmp"))


@app.post("/upload")
def upload() -> str:
    boundary = boundary_of(request.mimetype, request.mimetype_params)
    out = None
    for part in read_parts(request.stream, boundary, Limits()):
        if isinstance(part, FileStart):
            out = (OUT / secrets.token_hex(8)).open("wb")
        elif isinstance(part, FileChunk) and out is not None:
            out.write(part.data)
        elif isinstance(part, FileEnd) and out is not None:
            out.flush()
            os.fsync(out.fileno())
            out.close()
            out = None
    return "ok"
