"""Start the command line without loading pydantic's plugin discovery when plugins are switched off.

The first time pydantic builds a validator it imports `pydantic.plugin._loader`, and that module imports
importlib.metadata at its top (and with it the e-mail parser, zipfile and csv: 15–25 ms of a ~0.3 s run), even
though with PYDANTIC_DISABLE_PLUGINS=__all__ its `get_plugins()` returns no plugins without touching it. The
command line sets that variable, so it registers a loader that gives the same empty answer without the import.
Should the variable change later in the process, the stand-in hands over to pydantic's own loader.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable
from typing import Any

_LOADER = "pydantic.plugin._loader"
_DISABLED = ("__all__", "1", "true")  # the values for which pydantic's get_plugins() returns ()


def plugins_disabled() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _DISABLED


def _get_plugins() -> Iterable[Any]:
    if plugins_disabled():
        return ()
    import importlib

    if sys.modules.get(_LOADER) is _stand_in:
        del sys.modules[_LOADER]
    return importlib.import_module(_LOADER).get_plugins()


_stand_in = types.ModuleType(_LOADER, "Stand-in for pydantic's plugin loader while plugins are disabled.")
_stand_in.get_plugins = _get_plugins  # type: ignore[attr-defined]


def skip_plugin_discovery() -> None:
    """With plugins disabled, answer pydantic's plugin lookup without importing importlib.metadata."""
    if plugins_disabled() and _LOADER not in sys.modules:
        sys.modules[_LOADER] = _stand_in


def without_plugins() -> None:
    """What the command line runs with: no pydantic plugins (an explicit PYDANTIC_DISABLE_PLUGINS wins), and
    no plugin discovery when they are off. Without plugins disabled, building the first model scans every
    installed distribution's entry points for them."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    skip_plugin_discovery()
