"""Stock levels read devices by state and location."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T15:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device (state, location) index"

STATEMENTS = ["CREATE INDEX device_state_location ON device (state, location, kind, stocked_at)"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
