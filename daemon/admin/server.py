"""Routes, authentication and the checks behind ``/readyz``.

``/healthz`` answers from the event loop and touches nothing else: a supervisor restarting
the process when the database is down would not bring the database back. ``/readyz`` is
where the database, the scheduler and the settings file are checked.

With ``[daemon] http_token`` set, every route but ``/healthz`` wants it: as a bearer token
(scripts, Prometheus' ``authorization`` setting) or as a cookie that ``/?token=…`` sets once
for a browser. Without a token the server is open, which is why it binds to loopback unless
told otherwise. Forms carry a per-process value a page from another site cannot know, so a
visited page cannot make the browser re-queue alerts.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from daemon import metrics
from daemon.admin import views
from daemon.feeds.parsing import ParsePool
from daemon.runtime import Runtime
from daemon.settings import Settings
from storage import outbox

log = logging.getLogger("newswatch.admin")
COOKIE = "newswatch_token"
OPEN_PATHS = frozenset({"/healthz"})
DB_CHECK_TIMEOUT = 3.0
MAX_LIMIT = 1000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Service(Protocol):
    """What the server reads of the running daemon."""

    @property
    def settings(self) -> Settings: ...

    @property
    def runtime(self) -> Runtime | None: ...

    @property
    def parser(self) -> ParsePool | None: ...

    @property
    def settings_problem(self) -> str | None: ...

    def scheduler_running(self) -> bool: ...

    def kick_delivery(self) -> None: ...


class AdminServer:
    def __init__(self, service: Service, lag: metrics.LagMonitor | None = None) -> None:
        self.service = service
        self.lag = lag
        self.form_key = secrets.token_urlsafe(24)
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/", self.page)
        app.router.add_post("/alerts/{id}/retry", self.retry)
        app.router.add_get("/api/feeds", self.api_feeds)
        app.router.add_get("/api/drops", self.api_drops)
        app.router.add_get("/api/rules", self.api_rules)
        app.router.add_get("/api/articles", self.api_articles)
        app.router.add_get("/api/stories", self.api_stories)
        app.router.add_get("/api/alerts", self.api_alerts)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        bound = self._runner.addresses[0]
        self.address = (str(bound[0]), int(bound[1]))
        if not self._token() and host not in ("127.0.0.1", "::1", "localhost"):
            log.warning(
                "admin server listens on %s:%d without [daemon] http_token: anyone who can "
                "reach it can read the feeds, rules and alerts",
                host,
                port,
            )
        log.info("admin server listening address=http://%s:%d", host, self.address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- authentication -------------------------------------------------------------------

    def _token(self) -> str | None:
        return self.service.settings.daemon.http_token or None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        token = self._token()
        if token is None or request.path in OPEN_PATHS:
            return await handler(request)
        offered = request.query.get("token")
        if offered is not None and request.path == "/" and _same(offered, token):
            response = web.HTTPSeeOther("/")
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
        if given and _same(given, token):
            return await handler(request)
        return web.json_response(
            {"error": "a token is required: send 'Authorization: Bearer <[daemon] http_token>'"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="newswatch"'},
        )

    # --- health ---------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "pid": os.getpid()})

    async def readyz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        if problems:
            return web.json_response({"status": "not ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})

    async def problems(self) -> list[str]:
        problems: list[str] = []
        runtime = self.service.runtime
        if runtime is None:
            return ["starting: the database is not open yet"]
        try:
            async with asyncio.timeout(DB_CHECK_TIMEOUT):
                await _check_database(runtime)
        except Exception as exc:  # any failure is the answer, never an error page
            problems.append(f"database unreachable: {_short(exc)}")
        if not self.service.scheduler_running():
            problems.append("the scheduler is not running")
        if self.service.settings_problem:
            problems.append(f"settings file rejected: {self.service.settings_problem}")
        return problems

    # --- metrics --------------------------------------------------------------------------

    async def metrics(self, request: web.Request) -> web.Response:
        runtime = self.service.runtime
        if runtime is not None:
            try:
                async with asyncio.timeout(DB_CHECK_TIMEOUT):
                    await views.refresh_gauges(runtime, self.service.settings)
            except Exception as exc:  # counters are still worth serving
                log.warning("metrics: cannot read the database error=%s", _short(exc))
        parser = self.service.parser
        metrics.PARSERS_BUSY.set(parser.busy if parser is not None else 0)
        metrics.PARSERS.set(max(parser.processes, 1) if parser is not None else 0)
        body = generate_latest(metrics.REGISTRY)
        if self.lag is not None:
            self.lag.scraped()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    # --- the page -------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        runtime = self._runtime()
        html = await views.render_page(
            runtime, self.service.settings, self.form_key, notice=request.query.get("notice")
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def retry(self, request: web.Request) -> web.Response:
        runtime = self._runtime()
        form = await request.post()
        if not _same(str(form.get("form_key", "")), self.form_key):
            return web.json_response(
                {"error": "stale or foreign form: reload the page"}, status=403
            )
        alert_id = _int(request.match_info["id"], "id")
        async with runtime.sessions.begin() as session:
            done = await outbox.requeue(session, [alert_id])
        if not done:
            raise web.HTTPNotFound(text=f"no alert {alert_id}")
        log.info("alert re-queued from the status page alert_id=%s", alert_id)
        self.service.kick_delivery()
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"requeued": done})
        raise web.HTTPSeeOther(f"/?notice=alert+{alert_id}+re-queued#alerts")

    # --- JSON API -------------------------------------------------------------------------

    async def api_feeds(self, request: web.Request) -> web.Response:
        return _json(await views.feeds(self._runtime(), self.service.settings))

    async def api_drops(self, request: web.Request) -> web.Response:
        return _json(await views.drops(self._runtime()))

    async def api_rules(self, request: web.Request) -> web.Response:
        return _json(views.rules(self.service.settings))

    async def api_articles(self, request: web.Request) -> web.Response:
        return _json(await views.articles(self._runtime(), _limit(request)))

    async def api_stories(self, request: web.Request) -> web.Response:
        return _json(await views.stories(self._runtime(), _limit(request)))

    async def api_alerts(self, request: web.Request) -> web.Response:
        status = request.query.get("status") or None
        if status is not None and status not in outbox.STATUSES:
            known = ", ".join(outbox.STATUSES)
            raise _bad(f"status must be one of: {known} (got {status!r})")
        return _json(await views.alerts(self._runtime(), status, _limit(request)))

    def _runtime(self) -> Runtime:
        runtime = self.service.runtime
        if runtime is None:
            raise web.HTTPServiceUnavailable(text="starting: the database is not open yet")
        return runtime


async def _check_database(runtime: Runtime) -> None:
    """A query that must read the database itself; on SQLite also that the file is still
    there (a deleted file keeps answering through connections opened before)."""
    url = runtime.engine.url
    on_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_file and not await asyncio.to_thread(Path(str(url.database)).exists):
        raise FileNotFoundError(f"the database file {url.database} is gone")
    async with runtime.engine.connect() as connection:
        await connection.execute(text("SELECT count(*) FROM alembic_version"))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _short(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0] if message else ''}"[:300]


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _bad(f"{name} must be a whole number (got {value!r})") from None


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return 50
    limit = _int(raw, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    return limit


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=lambda value: json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)
