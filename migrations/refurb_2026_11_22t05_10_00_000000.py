"""Indexes for working a batch at once: its devices by state (reception, collection, closing)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-22T05:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device (batch, state) index"

STATEMENTS = [
    "CREATE INDEX device_batch_state ON device (batch, state)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
