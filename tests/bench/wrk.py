"""wrk, the HTTP load generator the benchmarks use (so the server, not a Python client, is measured).

A run rejects received devices, each request a new device: the same work a
station's scan does, through the full stack.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path

import asyncpg

__all__ = ("THREADS", "parse", "run", "seed_received", "write_reject_script")

THREADS = 2


async def seed_received(database_url: str, count: int) -> list[tuple[int, str]]:
    """`count` received devices (with their import event), straight in with COPY: setup, not the product."""
    from refurb.core.codes import CodeType, make_code

    connection = await asyncpg.connect(database_url)
    try:
        start = await connection.fetchval("SELECT coalesce(max(id), 0) FROM device") + 1
        now = datetime.datetime.now(tz=datetime.UTC)
        rows = [
            (
                start + i,
                make_code(CodeType.DEVICE, start + i).compact,
                "laptop",
                "Dell",
                "Latitude",
                "received",
                1,
                now,
                now,
            )
            for i in range(count)
        ]
        await connection.copy_records_to_table(
            "device",
            records=rows,
            columns=[
                "id",
                "code",
                "kind",
                "manufacturer",
                "model",
                "state",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "device_event",
            records=[(r[0], "import", "received", "bench", '{"reason": "bench"}', now, now) for r in rows],
            columns=["device", "action", "to_state", "actor_name", "payload", "created_at", "updated_at"],
        )
        await connection.execute("SELECT setval(pg_get_serial_sequence('device', 'id'), $1)", start + count)
        await connection.execute(
            "INSERT INTO code_counter (letter, last_serial, created_at, updated_at) "
            "VALUES ('D', $1, now(), now()) "
            "ON CONFLICT (letter) DO UPDATE SET last_serial = EXCLUDED.last_serial",
            start + count,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return [(r[0], r[1]) for r in rows]


_REJECT_SCRIPT = """
-- Each wrk thread takes every THREADS-th code, so no device is asked twice.
local codes = {%(codes)s}
local token = "%(token)s"
local threads = %(threads)d
local started = 0
function setup(thread)
  thread:set("first", started)
  started = started + 1
end
local counter = nil
request = function()
  counter = (counter or first) + threads
  local code = codes[(counter %% #codes) + 1]
  return wrk.format("POST", "/api/v1/devices/" .. code .. "/actions/reject",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"reason": "bench"}')
end
"""


def parse(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "per_second": rate,
        "p50_ms": ms(latency["50"]),
        "p99_ms": ms(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def run(url: str, clients: int, seconds: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", f"-t{THREADS}", f"-c{clients}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse(output)


def write_reject_script(path: Path, codes: list[str], token: str) -> Path:
    """A wrk Lua script that rejects each of `codes` once, with `token`."""
    path.write_text(
        _REJECT_SCRIPT
        % {"codes": ",".join(f'"{code}"' for code in codes), "token": token, "threads": THREADS}
    )
    return path
