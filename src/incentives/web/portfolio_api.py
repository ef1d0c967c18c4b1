"""The consultant workspace as JSON under /api/v1/portfolio: the same store calls as the pages
(portfolio_routes), for a session cookie (with its CSRF header) or an `Authorization: Bearer` token.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ..errors import InputError, Problem
from ..profile import loads_exact
from .portfolio_access import (
    api_caller,
    body_bytes,
    call_store,
    json_response,
    parse_date,
    start_rerun_job,
    store_engine,
    today,
)
from .problems import problems_body

router = APIRouter(include_in_schema=False)


# --- JSON API -----------------------------------------------------------------------------------------------

API = "/api/v1/portfolio"


def _client_json(engine, account_id: int, client_id: int) -> dict[str, Any]:
    from ..store import clients

    client = clients.get_client(engine, account_id, client_id)
    return {"id": client.id, "ref": client.ref, "name": client.name, "version": client.current_version,
            "updated_at": client.updated_at.isoformat(),
            "profile": clients.client_document(engine, account_id, client_id),
            "awards": [_award_json(a) for a in clients.list_awards(engine, account_id, client_id)]}


def _award_json(award) -> dict[str, Any]:
    from ..store.snapshot import award_document

    return {"id": award.id, **award_document(award), "amount_fen": award.amount_fen}


def _run_json(run) -> dict[str, Any]:
    return {"id": run.id, "client_id": run.client_id, "client_version_id": run.client_version_id,
            "batch_job_id": run.batch_job_id, "as_of": run.as_of.isoformat(), "rules_version": run.rules_version,
            "input_sha256": run.input_sha256, "total_fen": run.total_fen,
            "potential_total_fen": run.potential_total_fen, "ran_by": run.ran_by, "ran_at": run.ran_at.isoformat(),
            "result": json.loads(run.result_json)}


def _job_json(job) -> dict[str, Any]:
    from ..store.jobs import job_errors

    return {"id": job.id, "kind": job.kind, "as_of": job.as_of.isoformat() if job.as_of else None,
            "status": job.status, "progress_done": job.progress_done, "progress_total": job.progress_total,
            "evaluated": job.evaluated_count, "rejected": job.rejected_count, "errors": job_errors(job),
            "failure_reason": job.failure_reason}


def _body(raw: bytes) -> dict[str, Any]:
    data = loads_exact(raw or b"null")
    if not isinstance(data, dict):
        raise InputError([Problem("$", "请求体必须是 JSON 对象", "the body must be a JSON object")])
    return data


def _store_problem(error: Exception) -> JSONResponse:
    return JSONResponse(problems_body([Problem("$", error.zh, error.en)]), status_code=409)


@router.get(f"{API}/clients")
def api_clients(request: Request, q: str = "") -> Response:
    from ..store import clients

    caller = api_caller(request)
    rows = clients.list_clients(store_engine(request), caller.account_id, search=q[:100] or None)
    return json_response({"clients": [{"id": s.client.id, "ref": s.client.ref, "name": s.client.name,
                               "version": s.client.current_version, "latest_run_id": s.latest_run_id,
                               "latest_as_of": s.latest_as_of.isoformat() if s.latest_as_of else None,
                               "total_fen": s.total_fen, "potential_total_fen": s.potential_total_fen}
                              for s in rows]})


@router.post(f"{API}/clients")
def api_create_client(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients
    from ..store.errors import StoreError

    caller = api_caller(request)
    body = _body(raw)
    engine = store_engine(request)
    try:
        client = clients.create_client(engine, caller.account_id, body.get("profile"), body.get("ref"))
    except StoreError as error:
        return _store_problem(error)
    return json_response(_client_json(engine, caller.account_id, client.id), status_code=201)


@router.get(f"{API}/clients/{{client_id}}")
def api_client(request: Request, client_id: int) -> Response:
    caller = api_caller(request)
    return json_response(call_store(_client_json, store_engine(request), caller.account_id, client_id))


@router.put(f"{API}/clients/{{client_id}}")
def api_update_client(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients

    caller = api_caller(request)
    engine = store_engine(request)
    call_store(clients.get_client, engine, caller.account_id, client_id)
    body = _body(raw)
    call_store(clients.update_client, engine, caller.account_id, client_id, body.get("profile"))
    return json_response(_client_json(engine, caller.account_id, client_id))


@router.delete(f"{API}/clients/{{client_id}}")
def api_delete_client(request: Request, client_id: int) -> Response:
    from ..store import clients

    caller = api_caller(request)
    call_store(clients.delete_client, store_engine(request), caller.account_id, client_id)
    return Response(status_code=204)


@router.get(f"{API}/clients/{{client_id}}/versions")
def api_versions(request: Request, client_id: int) -> Response:
    from ..store import clients

    caller = api_caller(request)
    versions = call_store(clients.client_versions, store_engine(request), caller.account_id, client_id)
    return json_response({"versions": [{"version": v.version, "created_at": v.created_at.isoformat(),
                                "profile": json.loads(v.profile_json)} for v in versions]})


@router.post(f"{API}/clients/{{client_id}}/awards")
def api_add_award(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients

    caller = api_caller(request)
    engine = store_engine(request)
    call_store(clients.get_client, engine, caller.account_id, client_id)
    award = call_store(clients.add_award, engine, caller.account_id, client_id, _body(raw))
    return json_response(_award_json(award), status_code=201)


@router.delete(f"{API}/clients/{{client_id}}/awards/{{award_id}}")
def api_remove_award(request: Request, client_id: int, award_id: int) -> Response:
    from ..store import clients

    caller = api_caller(request)
    call_store(clients.remove_award, store_engine(request), caller.account_id, client_id, award_id)
    return Response(status_code=204)


@router.get(f"{API}/clients/{{client_id}}/runs")
def api_runs(request: Request, client_id: int) -> Response:
    from ..store import runs

    caller = api_caller(request)
    found = call_store(runs.list_runs, store_engine(request), caller.account_id, client_id)
    return json_response({"runs": [{k: v for k, v in _run_json(r).items() if k != "result"} for r in found]})


@router.post(f"{API}/clients/{{client_id}}/runs")
def api_run_client(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients, runs

    caller = api_caller(request)
    engine = store_engine(request)
    call_store(clients.get_client, engine, caller.account_id, client_id)
    body = _body(raw)
    as_of = parse_date(str(body.get("as_of") or today().isoformat()))
    run = call_store(runs.run_client, engine, caller.account_id, client_id, as_of)
    return json_response(_run_json(run), status_code=201)


@router.get(f"{API}/runs/{{run_id}}")
def api_run(request: Request, run_id: int) -> Response:
    from ..store import runs

    caller = api_caller(request)
    return json_response(_run_json(call_store(runs.get_run, store_engine(request), caller.account_id, run_id)))


@router.get(f"{API}/diff")
def api_diff(request: Request, before: int, after: int) -> Response:
    from ..store import runs

    caller = api_caller(request)
    return json_response(call_store(runs.diff_runs, store_engine(request), caller.account_id, before, after).as_dict())


@router.post(f"{API}/rerun")
def api_rerun(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    caller = api_caller(request)
    body = _body(raw)
    as_of = parse_date(str(body.get("as_of") or today().isoformat()))
    job_id = start_rerun_job(store_engine(request), caller.account_id, as_of)
    return json_response({"job_id": job_id, "status_url": f"{API}/jobs/{job_id}"}, status_code=202)


@router.get(f"{API}/jobs/{{job_id}}")
def api_job(request: Request, job_id: int) -> Response:
    from ..store.jobs import fail_stale_jobs, get_job

    caller = api_caller(request)
    engine = store_engine(request)
    fail_stale_jobs(engine)
    return json_response(_job_json(call_store(get_job, engine, caller.account_id, job_id)))


@router.get(f"{API}/export.json")
def api_export(request: Request) -> Response:
    from ..store.portfolio import export_portfolio

    caller = api_caller(request)
    return json_response(export_portfolio(store_engine(request), caller.account_id))


@router.post(f"{API}/import")
def api_import(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store.portfolio import import_portfolio
    from ..store.errors import StoreError

    caller = api_caller(request)
    try:
        outcome = import_portfolio(store_engine(request), caller.account_id, _body(raw))
    except StoreError as error:
        return JSONResponse(problems_body([Problem("$", error.zh, error.en)]), status_code=400)
    return json_response({"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
                  "errors": outcome.errors})
