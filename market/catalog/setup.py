"""Discovery's part of the app: the listing, recommendations and favourites; a companion coming
online is told to their fans (``UserCameOnline``, subscribed here: fans are discovery's)."""

from __future__ import annotations

from aiohttp import web

from accounts.keys import ACCOUNTS
from kernel.http.api import CURSORS
from kernel.keys import API, CLOCK, EVENTS
from market.catalog import routes
from market.catalog.favourites import FavouriteService
from market.catalog.keys import CATALOG, FAVOURITES, RECOMMENDER
from market.catalog.listing import Catalog
from market.catalog.recommender import Recommender
from moderation.keys import BLOCKS
from signaling.domain_events import UserCameOnline
from signaling.keys import EMITTER, SIGNALING
from store.keys import DB


def setup(app: web.Application) -> None:
    db, clock = app[DB], app[CLOCK]
    catalog = app[CATALOG] = Catalog(db, app[SIGNALING].presence, clock=clock, cursors=app[CURSORS])
    app[RECOMMENDER] = Recommender(db, catalog, clock)
    favourites = app[FAVOURITES] = FavouriteService(db, clock)
    accounts, blocks, emitter = app[ACCOUNTS], app[BLOCKS], app[EMITTER]

    async def tell_fans(event: UserCameOnline) -> None:
        companion_id = event.user_id
        fans = await favourites.fans_of(companion_id)
        if fans:
            nickname = (await accounts.get_user(companion_id)).nickname
            for fan in fans:
                if not await blocks.between(fan, companion_id):
                    await emitter.to_user(
                        fan, "favourite:online", {"user_id": companion_id, "nickname": nickname}
                    )

    app[EVENTS].subscribe(UserCameOnline, tell_fans)
    app[API].include(routes.api)
