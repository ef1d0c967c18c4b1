"""Engine tests reuse the worked cases (tests/schemes/worked_cases.py) as their eligible starting profiles."""

from __future__ import annotations

import sys
from pathlib import Path

_CASES_DIR = str(Path(__file__).resolve().parents[1] / "schemes")
if _CASES_DIR not in sys.path:
    sys.path.insert(0, _CASES_DIR)
