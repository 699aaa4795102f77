"""Discovery's state, under the AppKeys its routes read: the listing, recommendations and
favourites."""

from __future__ import annotations

from aiohttp import web

from market.catalog.favourites import FavouriteService
from market.catalog.listing import Catalog
from market.catalog.recommender import Recommender

CATALOG = web.AppKey("catalog", Catalog)
RECOMMENDER = web.AppKey("recommender", Recommender)
FAVOURITES = web.AppKey("favourites", FavouriteService)
