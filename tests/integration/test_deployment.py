"""compose.yaml is valid and wires PostgreSQL → migrate → app."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> list[str]:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "neither `docker compose` nor `docker-compose` is installed; .ci/run installs docker-compose"
        )
    pytest.skip("no docker compose on this machine (apt install docker-compose)")


def test_compose_config_passes() -> None:
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "pw",
        "REFURB_SECRET_KEY": "k" * 48,
        "REFURB_SIGNING_KEY": "s" * 44,
    }
    result = subprocess.run(
        [*_compose(), "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"db", "migrate", "app"}
    assert services["migrate"]["command"] == ["refurb", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["db"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert any("/var/lib/postgresql/data" in str(v) for v in services["db"]["volumes"])
    assert services["app"]["environment"]["REFURB_DATABASE_URL"].startswith("postgresql://")
    assert services["app"]["environment"]["REFURB_SIGNING_KEY"] == "s" * 44


def test_compose_refuses_to_run_without_secrets() -> None:
    secrets = ("POSTGRES_PASSWORD", "REFURB_SECRET_KEY", "REFURB_SIGNING_KEY")
    env = {k: v for k, v in os.environ.items() if k not in secrets}
    result = subprocess.run(
        [*_compose(), "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "REFURB_SECRET_KEY" in result.stderr
