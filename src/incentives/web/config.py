"""Web settings, read once from the environment so a deployment can tune them without code changes."""

from __future__ import annotations

import os
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY_BYTES = MIB  # a profile with hundreds of loans is far below this
DEFAULT_BATCH_UPLOAD_BYTES = 50 * MIB  # batch workbooks of a few hundred thousand rows
BATCH_UPLOAD_PREFIX = "/batch/"  # uploads under this path have their own, larger limit


def readable_size(n_bytes: int) -> str:
    """A size limit as people read it: "50 MB", "195.3 KB", "512 B" (binary units, at most one decimal).

    Rounded down, so that a file of the size shown is always within the limit.
    """
    if n_bytes < KIB:
        return f"{n_bytes} B"
    unit, name = (KIB, "KB") if n_bytes < MIB else (MIB, "MB")
    whole, tenth = divmod(n_bytes * 10 // unit, 10)
    return f"{whole}.{tenth} {name}" if tenth else f"{whole} {name}"


@dataclass(frozen=True, slots=True)
class WebSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    batch_upload_bytes: int = DEFAULT_BATCH_UPLOAD_BYTES

    @classmethod
    def from_env(cls) -> WebSettings:
        raw = os.environ.get("INCENTIVES_MAX_BODY_BYTES")
        batch = os.environ.get("INCENTIVES_BATCH_MAX_UPLOAD_BYTES")
        return cls(max_body_bytes=int(raw) if raw else DEFAULT_MAX_BODY_BYTES,
                   batch_upload_bytes=int(batch) if batch else DEFAULT_BATCH_UPLOAD_BYTES)
