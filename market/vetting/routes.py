"""HTTP adapter for vetting: the app's key to the service, and the public side — a
companion's voice sample, the levels, my level.  The applicant's routes are in
``application_routes``, the admin's review in ``review_routes``."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from kernel.http.access import ANYONE, COMPANIONS, access
from kernel.http.api import Api, Call
from market.vetting import errors
from market.vetting.keys import VETTING
from market.vetting.levels import LABELS, ORDER, THRESHOLDS, Thresholds
from metering.tariff import COMMISSION_BP, Level, Mode, bounds_for

api = Api()


class BoundsOut(BaseModel):
    min_fen: int
    max_fen: int


class ModeBoundsOut(BaseModel):
    text: BoundsOut
    voice: BoundsOut
    video: BoundsOut


class RateBoundsOut(BaseModel):
    normal: ModeBoundsOut
    #: with a certified specialist category (心理咨询, 外语陪练)
    specialist: ModeBoundsOut


class ThresholdsOut(BaseModel):
    #: billed minutes of completed sessions
    min_minutes: int
    min_reviews: int
    #: the Bayesian average rating × 100
    min_rating_x100: int


class LevelOut(BaseModel):
    name: str
    label: str
    thresholds: ThresholdsOut
    #: the platform's share of each minute, in basis points
    commission_bp: int
    rate_bounds: RateBoundsOut


class LevelsOut(BaseModel):
    levels: list[LevelOut]


class NextLevelOut(BaseModel):
    name: str
    label: str
    thresholds: ThresholdsOut
    #: per criterion (minutes, reviews, rating): reached already
    met: dict[str, bool]


class MyLevelOut(BaseModel):
    level: str
    label: str
    commission_bp: int
    minutes: int
    reviews: int
    rating_x100: int
    #: null at the top level
    next: NextLevelOut | None


@api.route(
    "GET",
    "/api/companions/{companion_id}/voice-sample",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's voice sample (cacheable: the URL carries its version)",
    tags=["vetting"],
    auth="none",
    raw_response_type="audio/webm",
    errors=[errors.VoiceSampleNotFound],
)
async def companion_voice_sample(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].public_voice_sample(
        call.request.match_info["companion_id"][:32]
    )
    etag = f'"v{f.version}"'
    headers = {
        "Cache-Control": "public, max-age=86400",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=f.data, content_type=f.content_type, headers=headers)


def _thresholds_out(t: Thresholds) -> ThresholdsOut:
    return ThresholdsOut(
        min_minutes=t.min_minutes, min_reviews=t.min_reviews, min_rating_x100=t.min_rating_x100
    )


def _mode_bounds(level: Level, specialist: bool) -> ModeBoundsOut:
    def one(mode: Mode) -> BoundsOut:
        b = bounds_for(mode, level, specialist)
        return BoundsOut(min_fen=b.min_fen, max_fen=b.max_fen)

    return ModeBoundsOut(text=one(Mode.TEXT), voice=one(Mode.VOICE), video=one(Mode.VIDEO))


@api.route(
    "GET",
    "/api/levels",
    access=access(ANYONE),
    summary="Companion levels: what each takes, its commission and price bounds",
    tags=["vetting"],
    auth="none",
    response=LevelsOut,
)
async def list_levels(call: Call) -> BaseModel:
    return LevelsOut(
        levels=[
            LevelOut(
                name=level.value,
                label=LABELS[level],
                thresholds=_thresholds_out(THRESHOLDS[level]),
                commission_bp=COMMISSION_BP[level],
                rate_bounds=RateBoundsOut(
                    normal=_mode_bounds(level, False), specialist=_mode_bounds(level, True)
                ),
            )
            for level in ORDER
        ]
    )


@api.route(
    "GET",
    "/api/me/level",
    access=access(COMPANIONS, refuse=errors.NotCompanion),
    summary="My level (companions) and my progress toward the next one",
    tags=["vetting"],
    response=MyLevelOut,
    errors=[errors.NotCompanion],
)
async def get_my_level(call: Call) -> BaseModel:
    p = await call.request.app[VETTING].level_progress(call.user.user_id)
    return MyLevelOut(
        level=p.level.value,
        label=LABELS[p.level],
        commission_bp=COMMISSION_BP[p.level],
        minutes=p.figures.minutes,
        reviews=p.figures.reviews,
        rating_x100=p.figures.rating_x100,
        next=(
            NextLevelOut(
                name=p.next.value,
                label=LABELS[p.next],
                thresholds=_thresholds_out(p.next_thresholds),
                met=p.met,
            )
            if p.next is not None and p.next_thresholds is not None
            else None
        ),
    )
