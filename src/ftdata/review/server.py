"""`ftdata review serve`: the review page and its JSON API, on 127.0.0.1 only.

Every URL lives under a random token (http://127.0.0.1:PORT/TOKEN/), so another local user or a web page
that guesses the port reaches nothing. The handlers are async and the store is used from the event loop
alone: one thread touches SQLite, and a decision's version check and write are one transaction, so two
tabs saving the same record get one success and one 409.
"""

import secrets
import socket
import sys
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import FtdataError, UsageError
from ..pipeline import split_of
from .queue import config_from_json
from .render import conversation, pretty, recheck, word_diff
from .stats import audit_estimate, judge_agreement
from .store import DECIDED, Conflict, Filter, Store

STATIC = Path(__file__).parent / "static"
# the page runs only its own script and shows only its own and inline (data:) images: a record's text,
# even if it got into the DOM as HTML by mistake, could not run or fetch anything
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"}


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Review:
    def __init__(self, db: str | Path, reviewer: str | None):
        self.store = Store(db)
        self.reviewer = reviewer
        meta = self.store.meta()
        self.meta = meta
        self.config = config_from_json(meta.get("config", {}))
        self.split = split_of(meta.get("input", ""))  # an edit is checked in the role of its input file

    def payload(self, key: str) -> dict[str, Any]:
        row = self.store.record(key)
        current = row["edited"] if row["status"] == "edited" else row["original"]
        judge = orjson.loads(row["judge"]) if row["judge"] else None
        if judge:
            judge.pop("raw", None)  # the page shows the rationale; the raw reply stays in the scored file
        return {
            "key": key, "rank": row["rank"], "queue": row["queue"], "risk": round(row["risk"], 3),
            "line": row["line"], "status": row["status"], "version": row["version"], "reason": row["reason"],
            "reviewer": row["reviewer"], "decided_at": row["decided_at"], "edited": row["status"] == "edited",
            "text": pretty(current), "original": pretty(row["original"]), "view": conversation(current),
            "findings": self.store.findings(row["pos"]), "judge": judge,
        }

    def state(self) -> dict[str, Any]:
        return {"progress": self.store.progress(), "audit": audit_estimate(self.store),
                "judge": judge_agreement(self.store), "rules": self.store.rules(), "reviewer": self.reviewer,
                "input": self.meta.get("input"), "records": self.meta.get("records"),
                "dataset_findings": self.meta.get("dataset_findings", [])}


def _filter(values) -> Filter:
    min_risk = values.get("min_risk")
    try:
        min_risk = float(min_risk) if min_risk not in (None, "") else None
    except ValueError:
        raise UsageError(f"min_risk must be a number, not {min_risk!r}") from None
    return Filter(status=values.get("status") or None, rule=values.get("rule") or None,
                  verdict=values.get("verdict") or None, min_risk=min_risk)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise UsageError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object")
    return body


def create_app(db: str | Path, token: str, reviewer: str | None = None) -> Starlette:
    review = Review(db, reviewer)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_HEADERS)

    async def state(request: Request) -> Response:
        return JSON(review.state(), headers=_HEADERS)

    async def neighbour(request: Request) -> Response:
        q = request.query_params
        rank = int(q["rank"]) if q.get("rank") not in (None, "") else None
        row = review.store.neighbour(_filter(q), rank, -1 if q.get("dir") == "-1" else 1)
        return JSON(review.payload(row["key"]) if row else {"done": True}, headers=_HEADERS)

    async def record(request: Request) -> Response:
        return JSON(review.payload(request.path_params["key"]), headers=_HEADERS)

    async def preview(request: Request) -> Response:
        key, body = request.path_params["key"], await _body(request)
        row = review.store.record(key)
        line, findings = recheck(str(body.get("text", "")), review.config, review.split)
        diff = word_diff(pretty(row["original"]), pretty(line) if line else str(body.get("text", "")))
        return JSON({"ok": line is not None, "findings": findings, "diff": diff}, headers=_HEADERS)

    async def decide(request: Request) -> Response:
        key, body = request.path_params["key"], await _body(request)
        status, version = body.get("status"), body.get("version")
        if status not in (*DECIDED, "pending") or not isinstance(version, int):
            raise UsageError("a decision needs a status (accepted, edited, rejected) and the record's version")
        edited = None
        if status == "edited":
            edited, findings = recheck(str(body.get("text", "")), review.config, review.split)
            if edited is None:
                return JSON({"error": "the edit was not saved: the record no longer passes the check",
                             "findings": findings}, status_code=422, headers=_HEADERS)
            if edited == review.store.record(key)["original"]:
                status, edited = "accepted", None  # an edit that changes nothing is an acceptance
        review.store.decide(key, status, version, reason=(body.get("reason") or None), edited=edited,
                            reviewer=review.reviewer)
        return JSON(review.payload(key), headers=_HEADERS)

    async def undo(request: Request) -> Response:
        key, body = request.path_params["key"], await _body(request)
        review.store.undo(key, int(body.get("version", -1)))
        return JSON(review.payload(key), headers=_HEADERS)

    async def bulk(request: Request) -> Response:
        body = await _body(request)
        count = review.store.bulk(_filter(body.get("filter") or {}), str(body.get("status")),
                                  reason=body.get("reason") or None, reviewer=review.reviewer)
        return JSON({"decided": count}, headers=_HEADERS)

    async def conflict(request: Request, exc: Conflict) -> Response:
        return JSON({"error": str(exc), "version": exc.current}, status_code=409, headers=_HEADERS)

    async def refused(request: Request, exc: FtdataError) -> Response:
        return JSON({"error": str(exc)}, status_code=400, headers=_HEADERS)

    async def bad_value(request: Request, exc: ValueError) -> Response:
        return JSON({"error": f"bad request: {exc}"}, status_code=400, headers=_HEADERS)

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/next", neighbour),
        Route("/api/record/{key}", record),
        Route("/api/record/{key}/preview", preview, methods=["POST"]),
        Route("/api/record/{key}/decide", decide, methods=["POST"]),
        Route("/api/record/{key}/undo", undo, methods=["POST"]),
        Route("/api/bulk", bulk, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    return Starlette(
        routes=[Mount(f"/{token}", routes=routes)],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
        exception_handlers={Conflict: conflict, FtdataError: refused, ValueError: bad_value},
    )


def serve(db: str | Path, *, port: int = 0, reviewer: str | None = None, open_browser: bool = False) -> None:
    import uvicorn

    token = secrets.token_urlsafe(24)
    app = create_app(db, token, reviewer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/{token}/"
    print(f"review page: {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    sys.stdout.flush()
