"""The service plus one trivial endpoint: the HTTP ceiling of the same server."""

from __future__ import annotations

from litestar import Litestar, get

from refurb.app import create_app


@get("/bench/noop", opt={"public": True}, include_in_schema=False)
async def noop() -> dict[str, bool]:
    """No database, no auth: only Litestar, the middleware stack and uvicorn."""
    return {"ok": True}


def create_bench_app() -> Litestar:
    """`create_app()` with the trivial endpoint registered."""
    app = create_app()
    app.register(noop)
    return app
