"""The name an upload is saved and shown under: its own base name, made safe."""

from __future__ import annotations

import unicodedata

FALLBACK_STEM = "upload"  # for a name with nothing left once made safe
MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name, and a Chinese character takes three
# control and format characters (bidirectional overrides can disguise a name) and line or paragraph breaks
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def safe_upload_name(filename: str) -> str:
    """The upload's own base name, safe to save and to show: no folders, no control characters, not too long.

    Uploads are saved under this name because everything downstream shows it (the results' 汇总 sheet, error
    and encoding notes, a workbook reader's messages), and a lone CSV's name says which table it holds (企业.csv,
    贷款.csv).
    """
    # some browsers send the whole path (C:\fakepath\...): either separator ends a folder
    base = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in UNSAFE_CATEGORIES)
    stem, dot, extension = base.strip().rpartition(".")
    if not dot:
        stem, extension = extension, ""
    suffix = dot + extension.strip()
    stem = _cut_to_bytes(stem, MAX_NAME_BYTES - len(suffix.encode()))
    stem = stem.strip(" .")  # a leading dot hides the file; trailing dots and spaces vanish on Windows
    return (stem or FALLBACK_STEM) + suffix


def _cut_to_bytes(text: str, max_bytes: int) -> str:
    """The longest start of `text` whose UTF-8 fits in max_bytes (a character cut in two is dropped)."""
    return text.encode()[:max(0, max_bytes)].decode(errors="ignore")
