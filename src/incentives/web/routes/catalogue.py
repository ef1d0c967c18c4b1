"""Scheme catalogue pages: /schemes (filter by region and kind) and /schemes/{id} (parameters with citations)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from ...schemes import catalogue
from .. import catalogue_view, labels
from ..rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/schemes")
async def scheme_list(request: Request, region: str = "", kind: str = "") -> Response:
    cat = catalogue()
    region = region if region in catalogue_view.regions(cat) else ""
    kind = kind if kind in catalogue_view.kinds(cat) else ""
    return render(request, "schemes.html", {
        "schemes": catalogue_view.summaries(cat, region or None, kind or None),
        "regions": catalogue_view.regions(cat), "kinds": catalogue_view.kinds(cat),
        "region": region, "kind": kind, "labels": labels,
    }, block="scheme_list")


@router.get("/schemes/{scheme_id:path}")
async def scheme_detail(request: Request, scheme_id: str) -> Response:
    cat = catalogue()
    try:
        scheme = cat.scheme(scheme_id)
    except KeyError:
        raise HTTPException(404) from None
    document = cat.document_of(scheme_id)
    group = cat.stacking_groups.get(scheme.stacking_group) if scheme.stacking_group else None
    return render(request, "scheme.html", {
        "scheme": scheme, "summary": catalogue_view.summary(cat, scheme), "document": document,
        "versions": catalogue_view.versions(scheme), "conditions": catalogue_view.conditions(scheme),
        "citations": catalogue_view.citations(scheme), "stacking": group, "labels": labels,
        "file": cat.scheme_files[scheme_id],
    })
