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

__all__ = (
    "THREADS",
    "parse",
    "run",
    "seed_received",
    "write_action_script",
    "write_reject_script",
    "write_scan_script",
    "write_script",
)

THREADS = 2


async def seed_received(database_url: str, count: int, state: str = "received") -> list[tuple[int, str]]:
    """`count` devices in `state` with their import event, straight in with COPY: setup, not the product."""
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
                state,
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
            records=[(r[0], "import", state, "bench", '{"reason": "bench"}', now, now) for r in rows],
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


_SCRIPT = """
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
  return wrk.format("POST", %(path)s,
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    %(body)s)
end
"""


#: wrk's time units (src/units.c: `time_units_us` — us, ms, s — and `time_units_s` — s, m, h), in ms.
_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
#: Longer than any answer: with wrk's default 2 s, slow answers dropped out of the latencies.
TIMEOUT = "30s"


def parse(output: str) -> dict[str, float]:
    """wrk's summary (src/wrk.c `print_stats_latency` and the lines after it) as numbers.

    A percentile is printed `%7.0Lf%%` then the value padded to 10 columns, e.g. `     99%    1.44s `;
    socket errors and timeouts (wrk prints them only when there are any) count as failures.
    """

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip()).groups()  # type: ignore[union-attr]
        return float(value) * _TIME_UNITS[unit]

    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = [int(n) for n in sockets.groups()] if sockets else [0, 0, 0, 0]
    non_2xx = int(status.group(1)) if status else 0
    return {
        "per_second": rate,
        "p50_ms": ms(latency["50"]),
        "p99_ms": ms(latency["99"]),
        "non_2xx": non_2xx,
        "socket_errors": sum(socket_errors),
        "timeouts": socket_errors[3],
        "failures": non_2xx + sum(socket_errors),
    }


def run(url: str, clients: int, seconds: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", f"-t{THREADS}", f"-c{clients}", f"-d{seconds}s", "--latency", f"--timeout={TIMEOUT}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse(output)


def write_script(path: Path, codes: list[str], token: str, *, target: str, body: str) -> Path:
    """A wrk Lua script sending one POST per code of `codes` with `token`.

    `target` and `body` are Lua expressions in which `code` is the device's code.
    """
    path.write_text(
        _SCRIPT
        % {
            "codes": ",".join(f'"{code}"' for code in codes),
            "token": token,
            "threads": THREADS,
            "path": target,
            "body": body,
        }
    )
    return path


def write_action_script(path: Path, codes: list[str], token: str, action: str, body: str = "{}") -> Path:
    """Each of `codes` gets `action` once (`body` is the JSON sent)."""
    return write_script(
        path, codes, token, target=f'"/api/v1/devices/" .. code .. "/actions/{action}"', body=f"'{body}'"
    )


def write_reject_script(path: Path, codes: list[str], token: str) -> Path:
    """Each of `codes` is rejected once, with a reason: a guarded transition with an effect."""
    return write_action_script(path, codes, token, "reject", '{"reason": "bench"}')


def write_scan_script(path: Path, codes: list[str], token: str, station: str, location: str) -> Path:
    """Each of `codes` is scanned once at a put-away `station`, into `location`."""
    body = (
        f"""'{{"station": "{station}", "context": {{"location": "{location}"}}, "text": "' .. code .. '"}}'"""
    )
    return write_script(path, codes, token, target='"/api/v1/scans"', body=body)
