"""Load and validate every file under schemes/ into one catalogue; a broken file fails loudly, never skipped.

Scheme files hold a document and its schemes; files under tables/ hold reference tables (PBoC rates, SME size
thresholds). Worked examples (*.cases.yaml) sit next to the files they test and are not loaded here.

Validating the files is a large part of a CLI run's start-up, so the validated catalogue is kept in a cache file
keyed by the data (rules_version) and by the code that validates it; a broken file is never cached.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic import ValidationError

from . import __version__
from .resources import schemes_dir
from .scheme_files import Document, RateTableFile, Scheme, SchemeFile, SmeSizeFile, StackingGroup


class SchemeFileError(Exception):
    """A scheme file that cannot be used: which file, where inside it, and what is wrong."""

    def __init__(self, file: Path, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems
        lines = [f"{file}: {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Catalogue:
    documents: dict[str, Document]  # by document id
    schemes: tuple[Scheme, ...]  # in catalogue order
    scheme_document: dict[str, str]  # scheme id -> document id
    scheme_files: dict[str, str]  # scheme id -> file path relative to schemes/
    stacking_groups: dict[str, StackingGroup]
    rates: RateTableFile
    sme_sizes: SmeSizeFile
    rules_version: str

    def scheme(self, scheme_id: str) -> Scheme:
        for scheme in self.schemes:
            if scheme.id == scheme_id:
                return scheme
        raise KeyError(scheme_id)

    def document_of(self, scheme_id: str) -> Document:
        return self.documents[self.scheme_document[scheme_id]]


def _format_loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top)"


def _resolve_citations(node: Any, citations: dict[str, Any], loc: tuple[Any, ...], problems: list) -> Any:
    """Replace `cite: name` references with the named citation; unknown names are problems."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (key == "cite" or key.endswith("_cite")) and isinstance(value, str):
                if value not in citations:
                    problems.append((_format_loc(loc + (key,)), f"unknown citation '{value}'"))
                    out[key] = value
                else:
                    out[key] = citations[value]
            else:
                out[key] = _resolve_citations(value, citations, loc + (key,), problems)
        return out
    if isinstance(node, list):
        return [_resolve_citations(item, citations, loc + (i,), problems) for i, item in enumerate(node)]
    return node


def _read(path: Path) -> dict[str, Any]:
    import yaml  # deferred: a cached catalogue needs no YAML

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise SchemeFileError(path, [("(yaml)", str(error))]) from None
    if not isinstance(data, dict):
        raise SchemeFileError(path, [("(top)", "a scheme file must be a mapping")])
    citations = data.get("citations") or {}
    problems: list[tuple[str, str]] = []
    if not isinstance(citations, dict):
        raise SchemeFileError(path, [("citations", "must be a mapping of name -> citation")])
    resolved = {k: v for k, v in data.items() if k != "citations"}
    resolved = _resolve_citations(resolved, citations, (), problems)
    if problems:
        raise SchemeFileError(path, problems)
    resolved["citations"] = citations
    return resolved


def _validate(model: type, data: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [(_format_loc(tuple(e["loc"])), e["msg"]) for e in error.errors()]
        raise SchemeFileError(path, problems) from None


def scheme_file_paths(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if not p.name.endswith(".cases.yaml"))


def rules_version(root: Path) -> str:
    """Package version plus a content hash of every data file (worked cases included: they document the rules)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def load_catalogue(root: Path) -> Catalogue:
    documents: dict[str, Document] = {}
    schemes: list[Scheme] = []
    scheme_document: dict[str, str] = {}
    scheme_files: dict[str, str] = {}
    groups: dict[str, StackingGroup] = {}
    rates: RateTableFile | None = None
    sizes: SmeSizeFile | None = None
    paths = scheme_file_paths(root)
    if not paths:
        raise SchemeFileError(root, [("(directory)", "no scheme files found")])
    for path in paths:
        data = _read(path)
        if "table" in data:
            kind = (data.get("table") or {}).get("kind")
            if kind == "rate_table":
                rates = _validate(RateTableFile, data, path)
            elif kind == "sme_size":
                sizes = _validate(SmeSizeFile, data, path)
            else:
                raise SchemeFileError(path, [("table.kind", f"unknown table kind '{kind}'")])
            continue
        parsed: SchemeFile = _validate(SchemeFile, data, path)
        if parsed.document.id in documents:
            raise SchemeFileError(path, [("document.id", f"duplicate document id '{parsed.document.id}'")])
        documents[parsed.document.id] = parsed.document
        own_groups = {group.id: group for group in parsed.stacking_groups}  # a scheme's group is in its own file
        groups.update(own_groups)
        for index, scheme in enumerate(parsed.schemes):
            if scheme.id in scheme_document:
                raise SchemeFileError(path, [(f"schemes[{index}].id", f"duplicate scheme id '{scheme.id}'")])
            scheme_document[scheme.id] = parsed.document.id
            scheme_files[scheme.id] = path.relative_to(root).as_posix()
            schemes.append(_with_group_assumptions(scheme, own_groups))
    if rates is None:
        raise SchemeFileError(root, [("tables", "no rate_table file found")])
    if sizes is None:
        raise SchemeFileError(root, [("tables", "no sme_size file found")])
    _check_rate_tools(schemes, rates, scheme_files, root)
    return Catalogue(documents, tuple(schemes), scheme_document, scheme_files, groups, rates, sizes,
                     rules_version(root))


def _with_group_assumptions(scheme: Scheme, groups: dict[str, StackingGroup]) -> Scheme:
    """The scheme with its stacking group's assumptions after its own: a reading of the rule that decides which
    award pays is part of every result it touches."""
    group = groups.get(scheme.stacking_group) if scheme.stacking_group else None
    if group is None or not group.assumptions:
        return scheme
    return scheme.model_copy(update={"assumptions": [*scheme.assumptions, *group.assumptions]})


def _check_rate_tools(schemes: list[Scheme], rates: RateTableFile, files: dict[str, str], root: Path) -> None:
    tools = {tool.id for tool in rates.tools}
    for scheme in schemes:
        for index, version in enumerate(getattr(scheme, "versions", [])):
            tool = getattr(version, "tool", None)
            if tool is not None and tool not in tools:
                raise SchemeFileError(root / files[scheme.id],
                                      [(f"{scheme.id}.versions[{index}].tool", f"unknown rate tool '{tool}'")])


# the modules whose code decides what a validated catalogue contains
_VALIDATING_MODULES = ("schemes.py", "scheme_files.py", "conditions.py", "citations.py", "facts.py", "money.py")


def default_cache_dir() -> Path | None:
    """INCENTIVES_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/incentives or ~/.cache/incentives."""
    override = os.environ.get("INCENTIVES_CACHE_DIR")
    if override is not None:
        return Path(override) if override else None
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "incentives"
    except RuntimeError:  # no home directory to put a cache in
        return None


def _cache_key(root: Path) -> str:
    digest = hashlib.sha256(rules_version(root).encode())
    digest.update(f"{sys.version_info[:2]} pydantic {pydantic.VERSION}".encode())
    for module in _VALIDATING_MODULES:
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:32]


def cached_catalogue(root: Path, cache_dir: Path | None) -> Catalogue:
    """load_catalogue(root), reusing a validated copy from cache_dir when the data and the code are unchanged."""
    if cache_dir is None:
        return load_catalogue(root)
    path = cache_dir / f"catalogue-{_cache_key(root)}.pickle"
    try:
        cached = pickle.loads(path.read_bytes())
        if isinstance(cached, Catalogue):
            return cached
    except Exception:  # missing, unreadable or from other code: validate afresh below
        pass
    loaded = load_catalogue(root)  # raises SchemeFileError for a broken file, so nothing broken is cached
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, path)
    except OSError:
        pass  # a read-only home is fine: validate every time
    return loaded


@cache
def catalogue() -> Catalogue:
    """The bundled catalogue, loaded once per process (from the validated cache when it is current)."""
    return cached_catalogue(schemes_dir(), default_cache_dir())
