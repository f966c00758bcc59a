"""Packing: `summary.md`, `bundle.json` and `manifest.json` in one tar.gz, the manifest holding each part's
sha256 so support can tell the archive arrived whole and unedited."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

SUMMARY = "summary.md"
DOCUMENT = "bundle.json"
MANIFEST = "manifest.json"


def encode_document(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, ensure_ascii=False).encode()


def part_entry(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def pack(folder: str, parts: dict[str, bytes], created: datetime) -> bytes:
    """A gzipped tar of `parts` under `folder/`, with fixed times and owners (same input, same bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in parts.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            info.mtime = int(created.timestamp())
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=int(created.timestamp()))


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, ensure_ascii=False).encode()


def save_archive(archive: bytes, filename: str, output: str | None) -> Path:
    """Write to `output` (a file, or a directory to put `filename` in), or `filename` in the working directory."""
    path = Path(output) if output else Path(filename)
    if path.is_dir():
        path = path / filename
    path.write_bytes(archive)
    return path
