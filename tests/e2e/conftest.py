"""A real server (uvicorn, in its own process) and a real browser (Debian chromium via Playwright)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from refurb import db
from refurb.core.stages import Stage
from tests.conftest import (
    LICENCE_KEY,
    PASSWORD,
    RUN_ID,
    SECRET_KEY,
    SIGNING_KEY,
    Template,
    _counter,
    _pg_admin,
    _pg_url,
)
from tests.e2e.axe import Auditor
from tests.helpers import new_station

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 1024, "height": 600}


@dataclass
class Server:
    """A running Refurb and how to reach it."""

    url: str
    database_url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser_path() -> str:
    """Debian's chromium; CI installs it, a laptop without it skips these tests."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; .ci/run installs it with apt")
        pytest.skip("no chromium here (apt install chromium) — browser tests skipped")
    return CHROMIUM


@pytest.fixture(scope="module")
async def server(engine: Template, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """Refurb served by uvicorn on a copy of the template database."""
    folder = tmp_path_factory.mktemp("e2e")
    if engine.kind == "sqlite":
        path = folder / "refurb.sqlite3"
        shutil.copyfile(engine.location, path)
        database_url = f"sqlite:///{path}"
        db.use_engine(SQLiteEngine(path=str(path), timeout=db.SQLITE_BUSY_TIMEOUT_S))
    else:
        name = f"refurb_{RUN_ID}_e2e_{next(_counter)}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{engine.location}"')
        database_url = _pg_url(name)
        db.use_engine(PostgresEngine(config={"dsn": database_url}))
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFURB_")},
        "REFURB_DATABASE_URL": database_url,
        "REFURB_SECRET_KEY": SECRET_KEY,
        "REFURB_SIGNING_KEY": SIGNING_KEY,
        "REFURB_LICENCE_KEY": LICENCE_KEY,
        "REFURB_VAR_DIR": str(folder / "var"),
    }
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", "refurb.app:create_app", "--factory", "--port", str(port)),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"{url}/health", timeout=1)).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.returncode is not None:
                process.kill()
                pytest.fail(f"the server did not start: {log_path.read_text()}")
            await asyncio.sleep(0.2)
    yield Server(url, database_url)
    process.terminate()
    await asyncio.wait_for(process.wait(), timeout=10)
    if engine.kind == "postgres":
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def browser(browser_path: str) -> AsyncIterator[object]:
    """One headless chromium for the whole run."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        yield instance
        await instance.close()


@pytest.fixture
async def page(browser, server: Server) -> AsyncIterator[object]:
    """A fresh tablet-sized page (no cookies) on the server, held to axe-core on every page it loads."""
    context = await browser.new_context(viewport=TABLET, locale="fr-FR", base_url=server.url)
    tab = await context.new_page()
    auditor = Auditor(tab)
    yield tab
    found = await auditor.finish()
    await context.close()
    assert not found, "axe-core found critical or serious violations:\n" + "\n".join(found)


async def login(page, username: str) -> None:
    """Log in through the login page, as a person does."""
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/")


# --- driving a station page as a keyboard-wedge scanner does --------------------------------

SCAN_DELAY_MS = 8  # a wedge scanner types a character every few milliseconds


async def scan(page, text: str, end: str = "Enter") -> None:
    await page.keyboard.type(text, delay=SCAN_DELAY_MS)
    await page.keyboard.press(end)


async def focused_id(page) -> str:
    return await page.evaluate("document.activeElement && document.activeElement.id")


async def open_station(page, stage: Stage, username: str = "technician"):
    station = await new_station(stage, f"{stage.value} e2e")
    await login(page, username)
    await page.goto(f"/stations/{station.code}")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'scan-input'")
    return station
