"""Idempotency keys of events are per user, like the HTTP layer's.

The unique index becomes (device, actor, idempotency_key): another user's key
can neither collide with nor replay someone else's event.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-22T04:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "per-user idempotency keys on device events"

STATEMENTS = [
    "DROP INDEX device_event_device_idempotency_key",
    "CREATE UNIQUE INDEX device_event_device_actor_idempotency_key ON device_event (device, actor, idempotency_key)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
