"""Sending to a printer: raw ZPL to TCP port 9100, with connect and send timeouts."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ("PrinterUnreachable", "send_raw")

CONNECT_TIMEOUT_S = 3.0
SEND_TIMEOUT_S = 10.0


class PrinterUnreachable(Exception):
    """The printer did not take the job; the message says what happened."""


async def send_raw(
    host: str,
    port: int,
    payload: bytes,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    send_timeout: float = SEND_TIMEOUT_S,
) -> None:
    """Write `payload` to host:port and close; raise PrinterUnreachable on any failure or timeout."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
    except TimeoutError:
        raise PrinterUnreachable(f"no answer from {host}:{port} within {connect_timeout:g} s") from None
    except (OSError, UnicodeError) as error:
        raise PrinterUnreachable(
            f"cannot connect to {host}:{port}: {getattr(error, 'strerror', None) or error}"
        ) from None
    try:
        writer.write(payload)
        await asyncio.wait_for(writer.drain(), send_timeout)
    except TimeoutError:
        raise PrinterUnreachable(f"{host}:{port} did not take the data within {send_timeout:g} s") from None
    except OSError as error:
        raise PrinterUnreachable(f"sending to {host}:{port} failed: {error.strerror or error}") from None
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(writer.wait_closed(), send_timeout)
