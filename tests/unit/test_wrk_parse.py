"""The benchmarks read wrk's summary in every unit it prints, and count socket errors as failures."""

from __future__ import annotations

from tests.bench.wrk import parse

SLOW = "\n".join(
    [
        "Running 10s test @ http://127.0.0.1:8000/",
        "  2 threads and 32 connections",
        "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
        "    Latency     1.12s   300.00ms   2.50s    70.00%",
        "    Req/Sec    14.00      5.00    30.00     60.00%",
        "  Latency Distribution",
        "     50%    1.44s ",
        "     75%    1.80s ",
        "     90%    2.10s ",
        "     99%    1.05m ",
        "  280 requests in 10.01s, 100.00KB read",
        "  Socket errors: connect 0, read 2, write 0, timeout 12",
        "  Non-2xx or 3xx responses: 3",
        "Requests/sec:     27.97",
        "Transfer/sec:      9.99KB",
        "",
    ]
)

FAST = """  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    2.00ms
     99%   14.31ms
  60000 requests in 10.00s, 20.00MB read
Requests/sec:   5999.10
"""


def test_seconds_minutes_and_failures() -> None:
    assert parse(SLOW) == {
        "per_second": 27.97,
        "p50_ms": 1440.0,
        "p99_ms": 63_000.0,
        "non_2xx": 3,
        "socket_errors": 14,
        "timeouts": 12,
        "failures": 17,
    }


def test_micro_and_milliseconds_without_errors() -> None:
    result = parse(FAST)
    assert (result["p50_ms"], result["p99_ms"], result["failures"]) == (0.812, 14.31, 0)
