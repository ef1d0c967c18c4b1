"""Consultant workspace pages and API: sign-in, CSRF, clients, awards, runs, diffs, jobs, import / export, and
one test that walks every portfolio route with another account's ids (all must answer 404)."""

from __future__ import annotations

import io
import json
import re
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from incentives.store import accounts
from incentives.store.db import make_engine, migrate

AS_OF = "2026-06-01"
PASSWORD = "correct horse battery"
CLUSTER = "sh-g60/industry-cluster"


def cluster_profile(name: str) -> dict:
    """A Songjiang enterprise with an industry-cluster project: the ¥20M cumulative cap applies."""
    return {"schema_version": 1,
            "enterprise": {"name": name, "region": {"province": "上海市", "city": "上海市", "district": "松江区"},
                           "industry_code": "3743", "employees": 120, "revenue_yuan": "90000000",
                           "declarations": {"on_dishonesty_list": False}},
            "projects": [{"id": "cluster-1", "activities": ["industry_cluster"], "total_input_yuan": "50000000",
                          "location": {"province": "上海市", "city": "上海市", "district": "松江区"}}]}


@pytest.fixture(scope="session")
def portfolio_app(app, tmp_path_factory):
    """The shared app, with its store on a fresh SQLite file (and cheap argon2 settings for speed)."""
    from argon2 import PasswordHasher

    if getattr(app.state, "portfolio_engine", None) is not None:
        yield app
        return
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('portfolio') / 'store.db'}")
    migrate(engine)
    app.state.portfolio_engine = engine
    saved = accounts._hasher, accounts._DUMMY_HASH
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._hasher, accounts._DUMMY_HASH = cheap, cheap.hash("dummy")
    yield app
    accounts._hasher, accounts._DUMMY_HASH = saved
    app.state.portfolio_engine = None
    engine.dispose()


class Consultant:
    """A signed-in browser session driven through TestClient (HTTPS, so the Secure cookie is sent)."""

    def __init__(self, app, email: str | None = None):
        self.email = email or f"c-{uuid.uuid4().hex[:8]}@example.cn"
        self.account = accounts.create_account(app.state.portfolio_engine, self.email, PASSWORD)
        self.http = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        self.login_response = sign_in(self.http, self.email, PASSWORD)
        self.csrf = csrf_of(self.http.get("/portfolio").text)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.http.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def create_client(self, name: str, ref: str | None = None) -> int:
        response = self.post("/portfolio/clients", {"profile": json.dumps(cluster_profile(name), ensure_ascii=False),
                                                     "ref": ref or ""}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    def run(self, client_id: int, as_of: str = AS_OF) -> int:
        response = self.post(f"/portfolio/clients/{client_id}/runs", {"as_of": as_of}, follow_redirects=False)
        assert response.status_code == 303
        return int(response.headers["location"].rsplit("/", 1)[1])


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(http: TestClient, email: str, password: str, ip_headers: dict | None = None):
    token = csrf_of(http.get("/portfolio/login").text)
    return http.post("/portfolio/login", data={"email": email, "password": password, "csrf_token": token,
                                                "next": "/portfolio"}, follow_redirects=False, headers=ip_headers)


@pytest.fixture
def consultant(portfolio_app) -> Consultant:
    return Consultant(portfolio_app)


def test_pages_ask_to_sign_in_and_the_session_cookie_is_httponly_lax_and_secure(portfolio_app, consultant):
    anonymous = TestClient(portfolio_app, raise_server_exceptions=False)
    response = anonymous.get("/portfolio/clients/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio/login?next=%2Fportfolio%2Fclients%2F1"
    assert anonymous.get("/api/v1/portfolio/clients").status_code == 401
    cookie = consultant.login_response.headers["set-cookie"]
    assert "incentives_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    plain = TestClient(portfolio_app, raise_server_exceptions=False)  # plain HTTP: no Secure flag, or no login at all
    accounts.create_account(portfolio_app.state.portfolio_engine, "plain@example.cn", PASSWORD)
    assert "Secure" not in sign_in(plain, "plain@example.cn", PASSWORD).headers["set-cookie"]


def test_wrong_password_is_refused_and_repeated_failures_are_rate_limited(portfolio_app, consultant):
    http = TestClient(portfolio_app, base_url="https://testserver", raise_server_exceptions=False)
    statuses = [sign_in(http, consultant.email, "wrong password").status_code
                for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT)]
    assert statuses == [401] * accounts.MAX_FAILURES_PER_ACCOUNT
    throttled = sign_in(http, consultant.email, PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "登录失败次数过多" in throttled.text


def test_forms_without_the_csrf_token_are_refused(consultant):
    client_id = consultant.create_client("松江无令牌测试企业")
    missing = consultant.http.post(f"/portfolio/clients/{client_id}/runs", data={"as_of": AS_OF})
    wrong = consultant.http.post(f"/portfolio/clients/{client_id}/runs", data={"as_of": AS_OF, "csrf_token": "x"})
    header = consultant.http.post(f"/portfolio/clients/{client_id}/runs", data={"as_of": AS_OF},
                                  headers={"X-CSRF-Token": consultant.csrf}, follow_redirects=False)
    assert (missing.status_code, wrong.status_code, header.status_code) == (403, 403, 303)
    page = consultant.http.get(f"/portfolio/clients/{client_id}").text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{consultant.csrf}"}}\'' in page  # htmx requests carry the token


def test_recording_an_award_then_rerunning_shows_the_reduced_headroom_and_the_diff(consultant):
    client_id = consultant.create_client("松江集群页面测试企业")
    before = consultant.run(client_id)
    response = consultant.post(f"/portfolio/clients/{client_id}/awards",
                               {"scheme_id": CLUSTER, "amount_yuan": "5000000", "date": "2026-02-01", "source": "区科委"})
    assert response.status_code == 200 and "¥5,000,000.00" in response.text
    after = consultant.run(client_id)
    page = consultant.http.get(f"/portfolio/runs/{after}").text
    row = re.search(rf'<tr data-scheme="{CLUSTER}".*?</tr>', page, re.S).group(0)
    assert "¥15,000,000.00" in row  # ¥20M cumulative cap − ¥5M already received
    diff = consultant.http.get(f"/portfolio/diff?before={before}&after={after}").text
    assert "¥20,000,000.00 → ¥15,000,000.00" in diff
    assert re.search(r'data-changed="true">(企业画像或已获资助|Profile or awards)', diff)
    bad = consultant.post(f"/portfolio/clients/{client_id}/awards",
                          {"scheme_id": CLUSTER, "amount_yuan": "-1", "date": "2026-02-01"})
    assert bad.status_code == 422 and "$.amount_yuan" in bad.text


def test_profile_edits_make_versions_and_bad_json_names_the_field(consultant):
    client_id = consultant.create_client("版本测试企业")
    edited = cluster_profile("版本测试企业（更名）")
    ok = consultant.post(f"/portfolio/clients/{client_id}/profile", {"profile": json.dumps(edited, ensure_ascii=False)})
    assert ok.status_code == 200 and "v2" in ok.text and "版本测试企业（更名）" in ok.text
    edited["enterprise"]["employees"] = "many"
    bad = consultant.post(f"/portfolio/clients/{client_id}/profile", {"profile": json.dumps(edited, ensure_ascii=False)})
    assert bad.status_code == 422 and "$.enterprise.employees" in bad.text


def test_client_list_searches_and_shows_latest_totals(consultant):
    first = consultant.create_client("搜索甲公司", ref="S-A")
    consultant.create_client("搜索乙公司", ref="S-B")
    consultant.run(first)
    page = consultant.http.get("/portfolio", params={"q": "甲"}).text
    assert "搜索甲公司" in page and "搜索乙公司" not in page and "¥20,000,000.00" in page
    fragment = consultant.http.get("/portfolio", params={"q": "乙"}, headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="client-list">') and "搜索乙公司" in fragment


def test_portfolio_rerun_runs_as_a_background_job_with_progress(consultant):
    for number in range(3):
        consultant.create_client(f"批量重跑企业{number}")
    response = consultant.post("/portfolio/rerun", {"as_of": "2026-07-01"}, follow_redirects=False)
    job_url = response.headers["location"]
    deadline = time.monotonic() + 60
    while True:
        page = consultant.http.get(job_url, headers={"HX-Request": "true"}).text
        status = re.search(r'data-status="(\w+)"', page).group(1)
        if status not in ("queued", "running") or time.monotonic() > deadline:
            break
        assert 'hx-trigger="every 1s"' in page
        time.sleep(0.2)
    assert status == "succeeded" and 'id="count-evaluated">3<' in page
    job = consultant.http.get(f"/api/v1/portfolio/jobs/{job_url.rsplit('/', 1)[1]}").json()
    assert (job["status"], job["evaluated"], job["rejected"], job["progress_done"]) == ("succeeded", 3, 0, 3)


def test_export_and_import_round_trip_through_xlsx_and_json(portfolio_app, consultant):
    client_id = consultant.create_client("导出测试企业", ref="EX-1")
    consultant.post(f"/portfolio/clients/{client_id}/awards",
                    {"scheme_id": CLUSTER, "amount_yuan": "1234.56", "date": "2026-01-02", "source": "区科委"})
    xlsx = consultant.http.get("/portfolio/export.xlsx")
    exported = consultant.http.get("/portfolio/export.json").json()
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    for filename, body in (("p.xlsx", xlsx.content), ("p.json", json.dumps(exported).encode())):
        other = Consultant(portfolio_app)
        page = other.post("/portfolio/import", files={"file": (filename, io.BytesIO(body))})
        assert page.status_code == 200 and 'id="count-created">1<' in page.text, filename
        again = other.http.get("/portfolio/export.json").json()
        assert [(c["ref"], c["versions"][-1]["profile"], c["awards"]) for c in again["clients"]] == [
            (c["ref"], c["versions"][-1]["profile"], c["awards"]) for c in exported["clients"]], filename


def test_a_broken_workbook_import_is_named_by_its_own_name(portfolio_app):
    page = Consultant(portfolio_app).post("/portfolio/import", files={"file": ("二季度客户.xlsx", io.BytesIO(b"not a zip"))})
    assert page.status_code == 200 and "二季度客户.xlsx" in page.text and "upload.xlsx" not in page.text


def test_api_tokens_are_shown_once_and_give_json_access(portfolio_app, consultant):
    page = consultant.post("/portfolio/tokens", {"name": "脚本"})
    secret = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    assert page.headers["cache-control"] == "no-store"
    assert secret not in consultant.http.get("/portfolio/tokens").text
    api = TestClient(portfolio_app, raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {secret}"}
    created = api.post("/api/v1/portfolio/clients", headers=bearer,
                       json={"ref": "API-1", "profile": cluster_profile("接口创建企业")})
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    award = api.post(f"/api/v1/portfolio/clients/{client_id}/awards", headers=bearer,
                     json={"scheme_id": CLUSTER, "amount_yuan": "2000000", "date": "2026-02-01"})
    assert award.status_code == 201
    run = api.post(f"/api/v1/portfolio/clients/{client_id}/runs", headers=bearer, json={"as_of": AS_OF}).json()
    [row] = [r for r in run["result"]["results"] if r["scheme_id"] == CLUSTER]
    assert row["amount_fen"] == 1_800_000_000
    bad = api.post(f"/api/v1/portfolio/clients/{client_id}/runs", headers=bearer, json={"as_of": "June"})
    assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "$.as_of"
    assert api.get("/api/v1/portfolio/clients", headers={"Authorization": "Bearer inc_wrong"}).status_code == 401
    # a signed-in browser may use the API too, but a state change needs the CSRF header
    assert consultant.http.post(f"/api/v1/portfolio/clients/{client_id}/runs", json={"as_of": AS_OF}).status_code == 403


# --- isolation: every route, another account's ids --------------------------------------------------------

ID_PARAMS = {"client_id", "award_id", "run_id", "job_id", "token_id"}


def _portfolio_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the portfolio pages and API: the routers have no prefix, so these are the app's paths."""
    from incentives.web import portfolio_api, portfolio_routes

    found = []
    for route in portfolio_routes.router.routes + portfolio_api.router.routes:
        path = getattr(route, "path", "")
        if path.startswith("/portfolio") or path.startswith("/api/v1/portfolio"):
            for method in sorted(getattr(route, "methods", ()) - {"HEAD"}):
                found.append((method, path))
    return found


def test_every_portfolio_route_answers_404_for_another_accounts_ids(portfolio_app):
    owner, intruder = Consultant(portfolio_app), Consultant(portfolio_app)
    client_id = owner.create_client("他人的企业", ref="SECRET")
    owner.post(f"/portfolio/clients/{client_id}/awards", {"scheme_id": CLUSTER, "amount_yuan": "100", "date": "2026-01-01"})
    first_run, second_run = owner.run(client_id), owner.run(client_id, "2026-07-01")
    job_id = int(owner.post("/portfolio/rerun", {"as_of": AS_OF}, follow_redirects=False).headers["location"].rsplit("/", 1)[1])
    token_page = owner.post("/portfolio/tokens", {"name": "owner"}).text
    ids = {"client_id": client_id, "run_id": first_run, "job_id": job_id,
           "award_id": int(re.search(r'data-award-id="(\d+)"', owner.http.get(f"/portfolio/clients/{client_id}").text).group(1)),
           "token_id": int(re.search(r'/portfolio/tokens/(\d+)/revoke', token_page).group(1))}
    intruder_token = re.search(r'id="new-token">([^<]+)<', intruder.post("/portfolio/tokens", {"name": "i"}).text).group(1)

    routes = _portfolio_routes()
    with_ids = [(m, p) for m, p in routes if set(re.findall(r"{(\w+)}", p)) & ID_PARAMS]
    diff_routes = [(m, p) for m, p in routes if p.endswith("/diff")]
    assert len(with_ids) >= 20 and len(diff_routes) == 2  # the walk below really covers the routes
    checked = 0
    for method, path in with_ids + diff_routes:
        url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        params = {"before": first_run, "after": second_run} if path.endswith("/diff") else None
        callers = [("session", {"X-CSRF-Token": intruder.csrf})]
        if path.startswith("/api/"):
            callers.append(("bearer", {"Authorization": f"Bearer {intruder_token}"}))
        for how, headers in callers:
            kwargs = {"headers": headers, "params": params, "follow_redirects": False}
            if method in ("POST", "PUT"):
                kwargs["data" if path.startswith("/portfolio") else "content"] = (
                    {"csrf_token": intruder.csrf} if path.startswith("/portfolio") else b"{}")
            response = intruder.http.request(method, url, **kwargs)
            assert response.status_code == 404, (how, method, url, response.status_code, response.text[:200])
            assert "他人的企业" not in response.text and "SECRET" not in response.text
            checked += 1
    # routes without ids list only the caller's own data
    for url in ("/portfolio", "/portfolio/export.json", "/portfolio/export.xlsx", "/api/v1/portfolio/clients",
                "/api/v1/portfolio/export.json", "/portfolio/tokens"):
        response = intruder.http.get(url)
        assert response.status_code == 200 and "SECRET" not in response.text and b"SECRET" not in response.content
    # and nothing of the owner's changed
    document = owner.http.get(f"/api/v1/portfolio/clients/{client_id}").json()
    assert len(document["awards"]) == 1 and document["name"] == "他人的企业"
    assert checked >= len(with_ids) + 2
