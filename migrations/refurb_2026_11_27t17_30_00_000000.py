"""Stock levels group devices by kind, grade, OS and location: the index covers all of them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device stock index with grade and os"

STATEMENTS = [
    "DROP INDEX device_state_location",
    "CREATE INDEX device_stock_levels ON device (state, location, kind, grade, os, stocked_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
