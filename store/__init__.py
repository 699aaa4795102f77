"""Persistence: SQLAlchemy 2 async models, repositories, migrations.

SQLite (aiosqlite) is the embedded default, PostgreSQL (asyncpg) the production database.
Repositories take an ``AsyncSession`` that the caller opened with ``Database.reading()`` or
``Database.writing()``; they never commit on their own.
"""

from store.db import Database

__all__ = ["Database"]
