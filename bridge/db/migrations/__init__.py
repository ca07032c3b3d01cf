"""Alembic migrations of the bridge database, run by :mod:`bridge.db.migrate`."""
