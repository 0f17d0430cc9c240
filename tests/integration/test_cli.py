"""The `refurb` command, run as a newcomer runs it: a separate process."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.conftest import SECRET_KEY


def refurb(args: list[str], database_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFURB_")},
        "REFURB_DATABASE_URL": database_url,
        "REFURB_SECRET_KEY": SECRET_KEY,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "refurb", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


MIGRATIONS = len([p for p in (Path(__file__).parents[2] / "migrations").glob("refurb_*.py")])


async def test_db_upgrade_then_status(empty_database: str, tmp_path: Path) -> None:
    before = refurb(["db", "status"], empty_database, tmp_path)
    assert before.returncode == 1
    assert f"{MIGRATIONS} pending" in before.stdout
    upgrade = refurb(["db", "upgrade"], empty_database, tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout.count("applied migration") == MIGRATIONS
    again = refurb(["db", "upgrade"], empty_database, tmp_path)
    assert "(0 applied now)" in again.stdout
    after = refurb(["db", "status"], empty_database, tmp_path)
    assert after.returncode == 0
    assert after.stdout.strip().endswith("up to date")


def test_a_missing_sqlite_folder_is_one_line(tmp_path: Path) -> None:
    """`db status` and the other commands say it plainly and create nothing; `db upgrade` creates it."""
    url = f"sqlite:///{tmp_path}/nowhere/sub/x.db"
    message = (
        f"Error: the SQLite database {url} cannot be opened: "
        f"its folder {tmp_path}/nowhere/sub does not exist (`refurb db upgrade` creates it)\n"
    )
    status = refurb(["db", "status"], url, tmp_path)
    assert (status.returncode, status.stdout, status.stderr) == (1, "", message)
    listed = refurb(["token", "list", "--username", "lea"], url, tmp_path)
    assert (listed.returncode, listed.stderr) == (1, message)
    assert not (tmp_path / "nowhere").exists()
    upgrade = refurb(["db", "upgrade"], url, tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "nowhere" / "sub" / "x.db").is_file()
    assert refurb(["db", "status"], url, tmp_path).stdout.strip().endswith("up to date")


def test_serve_on_a_taken_port_says_so_before_printing_any_url_or_login(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = f"sqlite:///{tmp_path}/refurb.sqlite3"
        served = refurb(["serve", "--demo", "--host", "127.0.0.1", "--port", str(port)], url, tmp_path)
    assert served.returncode == 1
    assert served.stdout == ""
    assert served.stderr == (
        f"Error: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "another program uses it; stop it or choose another --port\n"
    )
    assert not (tmp_path / "refurb.sqlite3").exists()


async def test_serve_refuses_pending_migrations_on_postgres(
    engine, empty_database: str, tmp_path: Path
) -> None:
    if engine.kind != "postgres":
        pytest.skip("SQLite upgrades itself at start; covered by test_serve_demo")
    result = refurb(["serve", "--port", "1"], empty_database, tmp_path)
    assert result.returncode == 1
    assert f"{MIGRATIONS} migration(s) pending" in result.stderr
    assert "refurb db upgrade" in result.stderr


async def test_users_and_tokens(database: str, tmp_path: Path) -> None:
    org = refurb(
        ["organisation", "create", "--name", "Atelier Nord", "--kind", "workshop"], database, tmp_path
    )
    assert org.returncode == 0, org.stderr
    bad_siret = refurb(
        ["organisation", "create", "--name", "X", "--kind", "donor", "--siret", "12345678901234"],
        database,
        tmp_path,
    )
    assert bad_siret.returncode == 1
    assert "bad_siret" in bad_siret.stderr
    created = refurb(
        ["user", "create", "--username", "lea", "--role", "technician", "--organisation", "Atelier Nord"],
        database,
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    password = created.stdout.split("password: ")[1].strip()
    assert len(password) >= 10
    duplicate = refurb(
        ["user", "create", "--username", "lea", "--role", "admin", "--organisation", "Atelier Nord"],
        database,
        tmp_path,
    )
    assert duplicate.returncode == 1
    assert "conflict" in duplicate.stderr
    unknown_org = refurb(
        ["user", "create", "--username", "zoe", "--role", "admin", "--organisation", "Nope"],
        database,
        tmp_path,
    )
    assert "No organisation is named 'Nope'" in unknown_org.stderr
    token = refurb(["token", "create", "--username", "lea"], database, tmp_path).stdout.strip()
    assert token.startswith("rfb_")

    from refurb.app import create_app
    from tests.conftest import make_settings, running

    app = create_app(make_settings(database, tmp_path))
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        me = await http.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.json()["username"] == "lea"
    assert me.json()["organisation"] == "Atelier Nord"

    listed = refurb(["token", "list", "--username", "lea"], database, tmp_path)
    assert token[:12] in listed.stdout
    assert token not in listed.stdout
    assert "last used" in listed.stdout
    revoked = refurb(["token", "revoke", "--username", "lea", "--prefix", token[:12]], database, tmp_path)
    assert revoked.stdout.strip() == "1 token(s) revoked"
    second = refurb(["token", "create", "--username", "lea"], database, tmp_path).stdout.strip()
    disabled = refurb(["user", "disable", "--username", "lea"], database, tmp_path)
    assert disabled.returncode == 0
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        old = await http.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        off = await http.get("/api/v1/me", headers={"authorization": f"Bearer {second}"})
    assert old.status_code == off.status_code == 401
    assert old.json()["code"] == "invalid_token"


async def test_demo_is_idempotent(database: str, tmp_path: Path) -> None:
    from refurb.accounts.tables import Organisation, User
    from refurb.devices.tables import Device
    from refurb.intake.tables import Agreement, Batch
    from refurb.stations.tables import Station

    first = refurb(["demo"], database, tmp_path)
    assert first.returncode == 0, first.stderr
    counts = (await Organisation.count(), await User.count(), await Device.count(), await Station.count())
    second = refurb(["demo"], database, tmp_path)
    assert second.returncode == 0, second.stderr
    assert (
        await Organisation.count(),
        await User.count(),
        await Device.count(),
        await Station.count(),
    ) == counts
    assert first.stdout == second.stdout  # the same logins, the same passwords
    assert counts[2] == 31
    for role in ("admin", "technician", "donor", "bus_staff", "auditor"):
        assert role in first.stdout
    states = {row["state"] for row in await Device.select(Device.state)}
    assert {"declared", "received", "sanitized", "in_stock", "handed_over", "missing"} <= states
    batches = await Batch.select(Batch.reference, Batch.state).order_by(Batch.reference)
    assert batches == [
        {"reference": "DEMO-2026-001", "state": "received"},  # its devices are received and beyond
        {"reference": "DEMO-2026-002", "state": "submitted"},
    ]
    assert await Agreement.count() == 1  # the demo donor signed: its pickup batch can be collected
    from refurb.erasure.tables import Medium

    declared = await Medium.select(Medium.serial).where(Medium.source == "declared")
    assert "6RX7AWEZ" in {row["serial"] for row in declared}  # the README's wiping demo


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    """A `refurb serve` running in a folder: where it answers, and what it printed once stopped."""

    port: int
    output: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serving(folder: Path, *args: str, **env: str) -> Iterator[Served]:
    """`refurb serve` on a free port with no REFURB_* variable but `env`, until the block ends."""
    served = Served(_free_port())
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("REFURB_")}, **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "refurb", "serve", "--port", str(served.port), *args],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{served.port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the service did not answer within 60 s")
        yield served
    finally:
        process.terminate()
        served.output.append(process.communicate(timeout=30)[0])


def qr_of_a_device_tag(port: int, token: str) -> str:
    """The URL in the QR code of the first demo device's asset tag, as the service renders it."""
    headers = {"authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    code = httpx.get(f"{base}/api/v1/devices", headers=headers).json()["items"][0]["code"]
    png = httpx.get(f"{base}/api/v1/labels/{code}", params={"format": "png"}, headers=headers)
    assert png.status_code == 200
    (url,) = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content))) if "/D/" in r.text]
    assert url.endswith(f"/D/{code}")
    return url.removesuffix(f"/D/{code}")


def test_serve_demo_on_a_fresh_folder(tmp_path: Path) -> None:
    """What the README's first command does: no configuration at all."""
    with serving(tmp_path, "--demo") as served:
        page = httpx.get(f"http://127.0.0.1:{served.port}/login")
        assert page.status_code == 200
    assert f"http://127.0.0.1:{served.port}/" in served.output[0]
    assert "technician" in served.output[0]
    assert (tmp_path / "var" / "refurb.sqlite3").exists()
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_qr_codes_point_where_serve_listens(tmp_path: Path) -> None:
    """Without REFURB_BASE_URL, links and QR codes use serve's own port; a set REFURB_BASE_URL wins."""
    with serving(tmp_path, "--demo") as first:
        created = refurb(
            ["token", "create", "--username", "technician"], "sqlite:///var/refurb.sqlite3", tmp_path
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        assert qr_of_a_device_tag(first.port, token) == f"HTTP://127.0.0.1:{first.port}"
    assert "QR codes on labels" not in first.output[0]
    with serving(tmp_path, "--host", "0.0.0.0") as everywhere:  # noqa: S104 - listening everywhere is the case
        assert qr_of_a_device_tag(everywhere.port, token) == f"HTTP://127.0.0.1:{everywhere.port}"
    assert f"QR codes on labels point to http://127.0.0.1:{everywhere.port}, " in everywhere.output[0]
    with serving(tmp_path, "--host", "0.0.0.0", REFURB_BASE_URL="https://refurb.example.org/") as given:  # noqa: S104
        assert qr_of_a_device_tag(given.port, token) == "HTTPS://REFURB.EXAMPLE.ORG"
    assert "QR codes on labels" not in given.output[0]


def test_signing_key_prints_a_key_that_signs_and_can_be_retired(tmp_path: Path) -> None:
    from refurb.erasure import certificates
    from refurb.settings import Settings

    first = refurb(["signing-key"], "sqlite:///unused.sqlite3", tmp_path)
    second = refurb(["signing-key"], "sqlite:///unused.sqlite3", tmp_path)
    assert first.returncode == 0, first.stderr
    old_key = first.stdout.splitlines()[0].removeprefix("REFURB_SIGNING_KEY=")
    old_public = first.stdout.splitlines()[2].removeprefix("# ")
    new_key = second.stdout.splitlines()[0].removeprefix("REFURB_SIGNING_KEY=")
    assert old_key != new_key
    postgres = "postgresql://refurb@127.0.0.1:1/none"
    old = certificates.configure(Settings(database_url=postgres, signing_key=old_key))
    rotated = certificates.configure(
        Settings(database_url=postgres, signing_key=new_key, signing_keys_retired=f"{old_public},not-a-key")
    )
    assert old.signing is not None
    assert rotated.signing is not None
    assert set(rotated.public) == {old.signing.key_id, rotated.signing.key_id}
    assert (
        certificates.configure(Settings(database_url=postgres)).signing is None
    )  # PostgreSQL: no key, no issuing
