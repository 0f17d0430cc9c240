"""`Idempotency-Key` for every mutating API call.

The same key with the same request replays the stored answer (a bus tablet
retrying after a dropped connection gets the result of its first attempt); the
same key with another request is a 422; a retry while the first attempt still
runs is a 409. Keys are per user and kept for a day.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import datetime
import email.message
import hashlib
import json
import logging
import random
import re
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from refurb.core.errors import BadInput, Conflict
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.db import write_transaction
from refurb.timestamps import utcnow
from refurb.web.problems import is_outage
from refurb.web.tables import IdempotencyRecord

__all__ = ("IDEMPOTENCY_HEADER", "IdempotencyMiddleware")

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
# Besides the body and its type, what a replay must give back as the first answer did.
REPLAYED_HEADERS = frozenset({"content-disposition", "location", "x-print-job", "x-label-pages"})
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
RETENTION = datetime.timedelta(hours=24)
IN_FLIGHT_TIMEOUT = datetime.timedelta(seconds=60)  # an owner that died (kill -9) frees its keys then
log = logging.getLogger("refurb.idempotency")
PURGE_PROBABILITY = 0.01  # about one keyed request in a hundred sweeps expired keys


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


# Answers that say "try again": a retry with the same key must really run again.
TRANSIENT_CODES = frozenset({"device_busy", "idempotency_in_flight"})


def _comparable(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The content type and body as a retry is compared: a multipart boundary is the client's choice.

    Most HTTP clients draw a new boundary for every request, so the same upload sent
    again differs only there: the boundary is taken out of both.
    """
    header = email.message.Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or header.get_content_maintype() != "multipart" or not boundary:
        return content_type, body
    return header.get_content_type(), body.replace(b"--" + boundary.encode("latin-1"), b"--boundary")


def _transient(status: int, content_type: str | None, body: bytes) -> bool:
    if status >= 500 or status == 429:
        return True
    if status == 409 and content_type == "application/problem+json":
        try:
            return json.loads(body).get("code") in TRANSIENT_CODES
        except ValueError:
            return False
    return False


class IdempotencyMiddleware:
    """Runs after authentication: keys are scoped to the authenticated user."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Replay, refuse, or run and store a keyed mutating request."""
        key = _header(scope, IDEMPOTENCY_HEADER.encode()) if scope["type"] == "http" else None
        principal = scope.get("user")
        if (
            key is None
            or scope.get("method") not in _UNSAFE
            or not scope.get("path", "").startswith("/api/")
            or not isinstance(principal, Principal)
        ):
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.fullmatch(key):
            raise BadInput(
                N_("An Idempotency-Key is 1 to 255 visible ASCII characters."), code="bad_idempotency_key"
            )
        body, replay = await self._buffer(receive)
        if body is None:
            await self.app(scope, replay, send)  # too large: let the handler refuse it
            return
        content_type, compared = _comparable(_header(scope, b"content-type") or "", body)
        fingerprint = hashlib.sha256(
            b"\n".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    content_type.encode(),
                    compared,
                ]
            )
        ).hexdigest()
        record_id = await self._claim(principal.user_id, key, fingerprint)
        if isinstance(record_id, dict):
            await self._replay(record_id, send)
            return
        await self._run_and_store(record_id, scope, replay, send)

    async def _buffer(self, receive: Receive) -> tuple[bytes | None, Receive]:
        chunks: list[bytes] = []
        size = 0
        messages: list[Message] = []
        more = True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if size > self.max_body_bytes:
                break
        pending = list(messages)

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return (None if size > self.max_body_bytes else b"".join(chunks)), replay

    async def _claim(self, user_id: int, key: str, fingerprint: str) -> int | dict[str, Any]:
        """Insert the key as in flight; or return the existing record to replay."""
        if random.random() < PURGE_PROBABILITY:  # noqa: S311 - sampling, not security
            async with write_transaction():
                await IdempotencyRecord.delete().where(IdempotencyRecord.created_at < utcnow() - RETENTION)
        for _ in range(2):
            async with write_transaction():
                inserted = await (
                    IdempotencyRecord.insert(
                        IdempotencyRecord(user=user_id, key=key, fingerprint=fingerprint)
                    )
                    .on_conflict(target=(IdempotencyRecord.user, IdempotencyRecord.key), action="DO NOTHING")
                    .returning(IdempotencyRecord.id)
                )
                if inserted:
                    return inserted[0]["id"]
                existing = (
                    await IdempotencyRecord.select()
                    .where((IdempotencyRecord.user == user_id) & (IdempotencyRecord.key == key))
                    .first()
                )
                if existing is None:
                    continue
                now = utcnow()
                stale = existing["state"] == "in_flight" and now - existing["updated_at"] > IN_FLIGHT_TIMEOUT
                if now - existing["created_at"] > RETENTION or stale:
                    await IdempotencyRecord.delete().where(IdempotencyRecord.id == existing["id"])
                    continue
            if existing["fingerprint"] != fingerprint:
                raise BadInput(
                    N_("This Idempotency-Key was already used for a different request."),
                    code="idempotency_key_reused",
                )
            if existing["state"] != "done":
                raise Conflict(
                    N_("The first request with this Idempotency-Key is still running; retry in a moment."),
                    code="idempotency_in_flight",
                )
            return existing
        raise Conflict(N_("The Idempotency-Key could not be claimed; retry."), code="idempotency_in_flight")

    async def _run_and_store(self, record_id: int, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        content_type: str | None = None
        kept: dict[str, str] = {}
        body: list[bytes] = []
        no_store = False

        async def capture(message: Message) -> None:
            nonlocal status, content_type, no_store
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    lowered = name.decode("latin-1").lower()
                    if lowered == "content-type":
                        content_type = value.decode("latin-1")
                    elif lowered == "cache-control" and "no-store" in value.decode("latin-1").lower():
                        no_store = True  # a one-time secret (a licence key) is never kept for a replay
                    elif lowered in REPLAYED_HEADERS:
                        kept[lowered] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if no_store or _transient(status, content_type, b"".join(body)):
                outcome: dict[Any, Any] | None = None  # released: a retry runs again
            else:
                outcome = {
                    IdempotencyRecord.state: "done",
                    IdempotencyRecord.response_status: status,
                    IdempotencyRecord.response_content_type: content_type,
                    # base64: a replayed PDF or PNG must be byte for byte the first one
                    IdempotencyRecord.response_body: base64.b64encode(b"".join(body)).decode(),
                    IdempotencyRecord.response_headers: kept,
                }
            try:
                await _settle(record_id, outcome)
            except Exception as error:  # the database went away under us: settle it as soon as it is back
                log.warning("Idempotency-Key record %s not settled yet: %s", record_id, type(error).__name__)
                _later(record_id, outcome)

    async def _replay(self, record: dict[str, Any], send: Send) -> None:
        body = base64.b64decode(record["response_body"] or "")
        headers = [(b"content-length", str(len(body)).encode()), (REPLAYED_HEADER.encode(), b"true")]
        if record["response_content_type"]:
            headers.append((b"content-type", record["response_content_type"].encode()))
        stored = record["response_headers"]
        for name, value in (json.loads(stored) if isinstance(stored, str) else stored or {}).items():
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": record["response_status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _settle(record_id: int, outcome: dict[Any, Any] | None) -> None:
    """Store the answer to replay, or release the key (None) so that a retry runs again."""
    async with write_transaction():
        if outcome is None:
            await IdempotencyRecord.delete().where(IdempotencyRecord.id == record_id)
        else:
            await IdempotencyRecord.update(outcome).where(IdempotencyRecord.id == record_id)


#: Keys whose answer could not be stored because the database was down, by record id.
_unsettled: dict[int, dict[Any, Any] | None] = {}
_settling: asyncio.Task[None] | None = None
SETTLE_EVERY_S = 0.5
SETTLE_ATTEMPTS = 120
SETTLE_TIMEOUT_S = 5


def _later(record_id: int, outcome: dict[Any, Any] | None) -> None:
    """Settle a key once the database answers again, so that a client's retry is not told "in flight"."""
    global _settling
    _unsettled[record_id] = outcome
    if _settling is None or _settling.done():
        # a fresh context: nothing of the failed request (its transaction) may leak into the retries
        _settling = asyncio.get_running_loop().create_task(_settle_when_back(), context=contextvars.Context())


async def _settle_when_back() -> None:
    """Retry every half second; a key no retry could settle in a minute is left to its in-flight timeout."""
    attempts = 0
    while _unsettled and attempts < SETTLE_ATTEMPTS:
        attempts += 1
        for record_id, outcome in list(_unsettled.items()):
            try:
                await asyncio.wait_for(_settle(record_id, outcome), timeout=SETTLE_TIMEOUT_S)
            except Exception as error:
                if not is_outage(error):
                    log.warning("Idempotency-Key record %s: %s", record_id, type(error).__name__)
                break
            _unsettled.pop(record_id, None)
        else:
            continue
        await asyncio.sleep(SETTLE_EVERY_S)
    _unsettled.clear()
