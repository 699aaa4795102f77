"""The database every package reads and writes, under one AppKey (``store.setup`` opens it)."""

from __future__ import annotations

from aiohttp import web

from store.db import Database

DB = web.AppKey("db", Database)
