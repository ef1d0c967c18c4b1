"""Web settings, read once from the environment so a deployment can tune them without code changes."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB: a profile with hundreds of loans is far below this
DEFAULT_BATCH_UPLOAD_BYTES = 50 * 1_048_576  # batch workbooks of a few hundred thousand rows
BATCH_UPLOAD_PREFIX = "/batch/"  # uploads under this path have their own, larger limit


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
