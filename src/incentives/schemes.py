"""Load and validate every file under schemes/ into one catalogue; a broken file fails loudly, never skipped.

Scheme files hold a document and its schemes; files under tables/ hold reference tables (PBoC rates, SME size
thresholds). Worked examples (*.cases.yaml) sit next to the files they test and are not loaded here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import __version__
from .resources import schemes_dir
from .scheme_files import Document, RateTableFile, Scheme, SchemeFile, SmeSizeFile, StackingGroup

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
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
        for group in parsed.stacking_groups:
            groups[group.id] = group
        for index, scheme in enumerate(parsed.schemes):
            if scheme.id in scheme_document:
                raise SchemeFileError(path, [(f"schemes[{index}].id", f"duplicate scheme id '{scheme.id}'")])
            scheme_document[scheme.id] = parsed.document.id
            scheme_files[scheme.id] = path.relative_to(root).as_posix()
            schemes.append(scheme)
    if rates is None:
        raise SchemeFileError(root, [("tables", "no rate_table file found")])
    if sizes is None:
        raise SchemeFileError(root, [("tables", "no sme_size file found")])
    _check_rate_tools(schemes, rates, scheme_files, root)
    return Catalogue(documents, tuple(schemes), scheme_document, scheme_files, groups, rates, sizes,
                     rules_version(root))


def _check_rate_tools(schemes: list[Scheme], rates: RateTableFile, files: dict[str, str], root: Path) -> None:
    tools = {tool.id for tool in rates.tools}
    for scheme in schemes:
        for index, version in enumerate(getattr(scheme, "versions", [])):
            tool = getattr(version, "tool", None)
            if tool is not None and tool not in tools:
                raise SchemeFileError(root / files[scheme.id],
                                      [(f"{scheme.id}.versions[{index}].tool", f"unknown rate tool '{tool}'")])


@cache
def catalogue() -> Catalogue:
    """The bundled catalogue, loaded once per process."""
    return load_catalogue(schemes_dir())
