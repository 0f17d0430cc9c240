"""Devices keep their batch's donor, so that a donor's view reads no other area's table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-04T05:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device donor backfill"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        await Migration.raw(
            "UPDATE device SET donor = (SELECT b.donor FROM batch b WHERE b.id = device.batch) "
            "WHERE batch IS NOT NULL"
        ).run()

    manager.add_raw(run)
    return manager
