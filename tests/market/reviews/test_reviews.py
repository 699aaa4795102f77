"""Reviews over HTTP: who may review which session and when, the limits, moderation of the
text, the reply, listings, reports, an admin hiding a review, and the companion's figures."""

from __future__ import annotations

from typing import get_args

import pytest
from sqlalchemy import select

from market.reviews.keys import STATS
from market.reviews.routes import ReviewReportIn
from market.reviews.rules import bayesian_x100
from moderation.reports import REVIEW_REASONS
from store.models.reviews import CompanionStats, Review
from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.reviews.helpers import code, get, paid_session, post, rename, review, session_row

DAY_S = 86_400


@pytest.mark.both_databases
async def test_a_paid_session_is_reviewed_once_and_counted(rig: Rig) -> None:
    cust, comp, sid = await paid_session(rig)
    await rename(rig, cust, "小明")
    # The session's end refreshed the companion's figures: one order of 2 minutes, no rating.
    status, page = await get(rig, f"/api/companions/{comp.user_id}")
    assert status == 200
    assert (page["orders"], page["rating_count"], page["rating_x100"]) == (1, 0, 450)
    async with rig.db.reading() as s:
        stats = await s.get(CompanionStats, comp.user_id)
    assert stats is not None and stats.minutes == 2

    status, state = await get(rig, f"/api/sessions/{sid}/review", cust)
    assert status == 200 and state["can_review"] and state["review"] is None
    status, state = await get(rig, f"/api/sessions/{sid}/review", comp)
    assert (state["can_review"], state["reason"]) == (False, "not_customer")
    outsider = await rig.person()
    assert (await get(rig, f"/api/sessions/{sid}/review", outsider))[0] == 404

    body = {"tags": ["耐心", "专业"], "text": "很耐心，声音好听"}
    status, written = await review(rig, cust, sid, 5, **body)
    assert status == 201, written
    assert (written["author"], written["stars"], written["tags"]) == ("小明", 5, ["耐心", "专业"])
    again = await review(rig, cust, sid, 5, **body)  # a resend: the same review
    assert again == (201, written)
    status, err = await review(rig, cust, sid, 4, **body)
    assert (status, code(err)) == (409, "already_reviewed")

    # Not yours: the session does not exist for you, whoever you are.
    for who in (outsider, comp):
        status, err = await review(rig, who, sid, 1)
        assert (status, code(err)) == (404, "session_not_found")

    status, page = await get(rig, f"/api/companions/{comp.user_id}")
    assert (page["rating_count"], page["rating_x100"], page["orders"]) == (1, 452, 1)
    status, listed = await get(rig, f"/api/companions/{comp.user_id}/reviews")
    assert [(r["id"], r["author"], r["reply"]) for r in listed["reviews"]] == [
        (written["id"], "小明", None)
    ]
    assert "session_id" not in listed["reviews"][0] and cust.user_id not in str(listed)
    status, state = await get(rig, f"/api/sessions/{sid}/review", cust)
    assert (state["can_review"], state["reason"], state["review"]["id"]) == (
        False,
        "already_reviewed",
        written["id"],
    )

    # The companion replies once; nobody else can.
    rid = written["id"]
    other_comp = await rig.person("companion")
    for who in (other_comp, cust):
        status, err = await post(rig, f"/api/reviews/{rid}/reply", who, {"text": "谢谢"})
        assert (status, code(err)) == (404, "review_not_found")
    status, replied = await post(rig, f"/api/reviews/{rid}/reply", comp, {"text": "谢谢支持～"})
    assert status == 200 and replied["reply"]["text"] == "谢谢支持～"
    assert (await post(rig, f"/api/reviews/{rid}/reply", comp, {"text": "谢谢支持～"}))[0] == 200
    status, err = await post(rig, f"/api/reviews/{rid}/reply", comp, {"text": "再次感谢"})
    assert (status, code(err)) == (409, "already_replied")
    status, err = await post(rig, f"/api/reviews/{rid}/reply", comp, {"text": "长" * 301})
    assert status == 400
    # A review with a reply can no longer be edited.
    resp = await rig.http.put(
        f"/api/sessions/{sid}/review", json={"stars": 1}, headers=bearer(cust.token)
    )
    assert (resp.status, code(await resp.json())) == (409, "review_locked")

    status, mine = await get(rig, "/api/me/reviews", cust)
    assert mine["kind"] == "written" and [r["session_id"] for r in mine["reviews"]] == [sid]
    status, received = await get(rig, "/api/me/reviews", comp)
    assert received["kind"] == "received"
    assert [r["reply"]["text"] for r in received["reviews"]] == ["谢谢支持～"]


async def test_only_a_paid_ended_session_within_seven_days(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    running = await session_row(rig, cust, comp, status="running")
    unpaid = await session_row(rig, cust, comp, billed_minutes=0)
    day8 = await session_row(rig, cust, comp, ended_ago_s=8 * DAY_S)
    exactly7 = await session_row(rig, cust, comp, ended_ago_s=7 * DAY_S)
    last_second = await session_row(rig, cust, comp, ended_ago_s=7 * DAY_S - 1)
    for sid, expected in (
        (running, "session_not_ended"),
        (unpaid, "session_not_paid"),
        (day8, "review_window_closed"),
        (exactly7, "review_window_closed"),
    ):
        status, err = await review(rig, cust, sid)
        assert (status, code(err)) == (409, expected), sid
        _, state = await get(rig, f"/api/sessions/{sid}/review", cust)
        assert (state["can_review"], state["reason"]) == (False, expected)
    _, state = await get(rig, f"/api/sessions/{last_second}/review", cust)
    assert state["can_review"] and state["open_until"] is not None
    assert (await review(rig, cust, last_second))[0] == 201
    missing = "call_" + "0" * 32
    assert (await review(rig, cust, missing))[0] == 404


async def test_stars_tags_and_text_are_checked(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    sid = await session_row(rig, cust, comp)
    for stars in (0, 6):
        status, err = await review(rig, cust, sid, stars)
        assert (status, code(err)) == (400, "invalid_input")
    status, err = await review(rig, cust, sid, 5, tags=["耐心", "很帅"])
    assert (status, code(err)) == (400, "unknown_review_tag")
    status, err = await review(
        rig, cust, sid, 5, tags=["耐心", "专业", "有趣", "准时", "温柔", "幽默"]
    )
    assert (status, code(err)) == (400, "too_many_review_tags")
    status, err = await review(rig, cust, sid, 5, text="好" * 501)
    assert (status, code(err)) == (400, "invalid_input")
    status, err = await review(rig, cust, sid, "5")  # no coercion
    assert status == 400
    # Moderation: an ID number is refused with its category; nothing was stored.
    status, err = await review(rig, cust, sid, 5, text="我的身份证 11010519491231002X")
    assert (status, code(err)) == (400, "text_refused")
    assert err["error"]["details"]["categories"] == ["id_card"]
    async with rig.db.reading() as s:
        assert (await s.scalar(select(Review).where(Review.session_id == sid))) is None
    # A messenger ID is masked in what is stored and shown.
    status, written = await review(rig, cust, sid, 4, text="微信 abc_12345 聊得很开心")
    assert status == 201 and written["text"] == "微信 **** 聊得很开心"
    _, listed = await get(rig, f"/api/companions/{comp.user_id}/reviews")
    assert listed["reviews"][0]["text"] == "微信 **** 聊得很开心"


async def test_a_review_moderation_flags_is_published_and_queued_for_admins(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    admin = await rig.person("admin")
    sid = await session_row(rig, cust, comp)
    status, written = await review(rig, cust, sid, 2, text="她一直问能不能线下见面")
    assert status == 201 and written["text"] == "她一直问能不能线下见面"
    _, queue = await get(rig, "/api/admin/reports", admin)
    flagged = [r for r in queue["reports"] if r["call_id"] == sid]
    assert len(flagged) == 1
    assert (flagged[0]["reason"], flagged[0]["message_seq"], flagged[0]["reporter_id"]) == (
        "auto",
        -1,
        None,
    )
    assert flagged[0]["target_id"] == cust.user_id
    assert flagged[0]["evidence"]["review"]["id"] == written["id"]


async def test_edit_within_the_window_changes_the_rating(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    sid = await session_row(rig, cust, comp, ended_ago_s=7 * DAY_S - 30)
    await review(rig, cust, sid, 1)
    assert (await get(rig, f"/api/companions/{comp.user_id}"))[1]["rating_x100"] == 433
    resp = await rig.http.put(
        f"/api/sessions/{sid}/review",
        json={"stars": 5, "tags": ["准时"], "anonymous": True},
        headers=bearer(cust.token),
    )
    assert resp.status == 200
    edited = await resp.json()
    assert (edited["stars"], edited["author"], edited["anonymous"]) == (5, "匿名", True)
    assert (await get(rig, f"/api/companions/{comp.user_id}"))[1]["rating_x100"] == 452
    rig.clock.advance(30)  # the window closes 7 days after the end
    resp = await rig.http.put(
        f"/api/sessions/{sid}/review", json={"stars": 3}, headers=bearer(cust.token)
    )
    assert (resp.status, code(await resp.json())) == (409, "review_window_closed")
    other = await session_row(rig, cust, comp)
    resp = await rig.http.put(
        f"/api/sessions/{other}/review", json={"stars": 3}, headers=bearer(cust.token)
    )
    assert (resp.status, code(await resp.json())) == (404, "review_not_found")


async def test_reports_and_an_admin_hiding_a_review(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    admin = await rig.person("admin")
    bystander = await rig.person()
    sid = await session_row(rig, cust, comp)
    keeper = await rig.person()
    keep_sid = await session_row(rig, keeper, comp)
    _, bad = await review(rig, cust, sid, 1, text="态度很差")
    _, kept = await review(rig, keeper, keep_sid, 5)
    assert (await get(rig, f"/api/companions/{comp.user_id}"))[1]["rating_count"] == 2

    rid = bad["id"]
    status, report = await post(
        rig, f"/api/reviews/{rid}/report", comp, {"reason": "false_review", "details": "没有的事"}
    )
    assert status == 201, report
    # The reporter learns the review, not who wrote it nor the session (reviews.visibility).
    assert (report["subject"], report["review_id"]) == ("review", rid)
    assert (report["target_id"], report["call_id"], report["message_seq"]) == (None, None, None)
    again = await post(rig, f"/api/reviews/{rid}/report", comp, {"reason": "false_review"})
    assert again[1]["id"] == report["id"]  # once per reporter and review
    status, other = await post(rig, f"/api/reviews/{rid}/report", bystander, {"reason": "other"})
    assert status == 201 and other["id"] != report["id"]
    status, err = await post(rig, f"/api/reviews/{rid}/report", cust, {"reason": "other"})
    assert (status, code(err)) == (400, "cannot_report_self")
    status, err = await post(rig, f"/api/reviews/{rid}/report", comp, {"reason": "spam"})
    assert status == 400
    _, queue = await get(rig, "/api/admin/reports", admin)
    mine = next(r for r in queue["reports"] if r["id"] == report["id"])
    assert mine["evidence"]["review"]["text"] == "态度很差" and mine["reporter_id"] == comp.user_id
    assert (mine["target_id"], mine["call_id"], mine["review_id"]) == (cust.user_id, sid, rid)

    status, err = await post(rig, f"/api/admin/reviews/{rid}/hide", comp, {"reason": "x"})
    assert status == 403
    status, err = await post(rig, f"/api/admin/reviews/{rid}/hide", admin, {"reason": ""})
    assert status == 400
    for _ in range(2):  # hiding twice changes nothing more
        status, hidden = await post(
            rig, f"/api/admin/reviews/{rid}/hide", admin, {"reason": "恶意差评"}
        )
        assert status == 200 and hidden["hidden"]
    missing = await post(rig, "/api/admin/reviews/rev_nope/hide", admin, {"reason": "x"})
    assert (missing[0], code(missing[1])) == (404, "review_not_found")

    # Not listed, not counted, not reportable; its author still sees it, marked.
    _, listed = await get(rig, f"/api/companions/{comp.user_id}/reviews")
    assert [r["id"] for r in listed["reviews"]] == [kept["id"]]
    _, page = await get(rig, f"/api/companions/{comp.user_id}")
    assert (page["rating_count"], page["rating_x100"]) == (1, 452)
    _, mine_list = await get(rig, "/api/me/reviews", cust)
    assert [(r["id"], r["hidden"]) for r in mine_list["reviews"]] == [(rid, True)]
    _, received = await get(rig, "/api/me/reviews", comp)
    assert [r["id"] for r in received["reviews"]] == [kept["id"]]
    status, err = await post(rig, f"/api/reviews/{rid}/report", bystander, {"reason": "other"})
    assert (status, code(err)) == (404, "review_not_found")
    status, err = await post(rig, f"/api/reviews/{rid}/reply", comp, {"text": "谢谢"})
    assert status == 404
    _, state = await get(rig, f"/api/sessions/{sid}/review", comp)
    assert state["review"] is None

    _, audit = await get(rig, "/api/admin/audit", admin, subject_type="review", subject_id=rid)
    assert [(e["action"], e["admin_id"]) for e in audit["entries"]] == [
        ("review.hide", admin.user_id)
    ]
    assert audit["entries"][0]["detail"]["reason"] == "恶意差评"


@pytest.mark.both_databases
async def test_listings_page_newest_first_and_show_anonymous_authors(rig: Rig) -> None:
    comp = await rig.person("companion")
    made = []
    for i in range(5):
        cust = await rig.person()
        await rename(rig, cust, f"客户{i}")
        sid = await session_row(rig, cust, comp)
        made.append((await review(rig, cust, sid, 5 - i % 2, anonymous=i == 2))[1])
        rig.clock.advance(60)
    seen = []
    cursor = None
    for _ in range(4):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        status, page = await get(rig, f"/api/companions/{comp.user_id}/reviews", **params)
        assert status == 200
        seen += page["reviews"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [r["id"] for r in seen] == [r["id"] for r in reversed(made)]
    assert [r["author"] for r in seen] == ["客户4", "客户3", "匿名", "客户1", "客户0"]
    status, err = await get(rig, f"/api/companions/{comp.user_id}/reviews", cursor="bogus")
    assert (status, code(err)) == (400, "bad_cursor")
    status, err = await get(rig, f"/api/companions/{(await rig.person()).user_id}/reviews")
    assert (status, code(err)) == (404, "companion_not_found")
    _, tags = await get(rig, "/api/reviews/tags")
    assert "耐心" in tags["tags"] and tags["max_tags"] == 5


@pytest.mark.both_databases
async def test_the_stats_are_recomputed_from_the_rows_idempotently(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    for stars in (5, 4, 3):
        await review(rig, cust, await session_row(rig, cust, comp, billed_minutes=7), stars)
    await session_row(rig, cust, comp, billed_minutes=0)  # not an order
    await session_row(rig, cust, comp, status="running")  # not yet
    first = await rig.app[STATS].refresh(comp.user_id)
    again = await rig.app[STATS].refresh(comp.user_id)
    assert (first.rating_count, first.rating_sum, first.orders, first.minutes) == (3, 12, 3, 21)
    assert (again.rating_count, again.rating_sum, again.rating_x100, again.orders) == (
        3,
        12,
        bayesian_x100(3, 12),
        3,
    )


def test_the_review_report_reasons_match_moderation() -> None:
    assert set(get_args(ReviewReportIn.model_fields["reason"].annotation)) == set(REVIEW_REASONS)
