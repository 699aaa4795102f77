"""Who sees what of a review (reviews/visibility.py), role by role: an anonymous review's author,
session and exact time reach its author and the admins only; the reviewed companion, other
customers, other companions and anonymous readers get nothing that joins it to its session."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from tests.harness import bearer
from tests.harness.rig import Person, Rig
from tests.market.reviews.helpers import code, get, post, rename, review, session_row


async def _texts(rig: Rig, who: Person | None, calls: list[tuple[str, str, Any]]) -> list[str]:
    """The raw bodies ``who`` gets from ``calls`` (method, path, body)."""
    out = []
    for method, path, body in calls:
        headers = bearer(who.token) if who else {}
        resp = await rig.http.request(method, path, json=body, headers=headers)
        assert resp.status < 500, (method, path, resp.status)
        out.append(await resp.text())
    return out


def _day_start(at: str) -> bool:
    local = datetime.fromisoformat(at).astimezone(
        datetime.fromisoformat("2000-01-01T00:00:00+08:00").tzinfo
    )
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


async def test_an_anonymous_review_names_its_author_only_to_them_and_admins(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    other_cust = await rig.person()
    other_comp = await rig.person("companion")
    admin = await rig.person("admin")
    await rename(rig, cust, "秘密作者")
    comp_sock = await rig.connect(comp)
    sid = await session_row(rig, cust, comp)
    rig.clock.advance(37)  # written 37 s after the session ended: the exact time would name it
    status, mine = await review(rig, cust, sid, 2, text="不太满意", anonymous=True)
    assert status == 201, mine
    rid = mine["id"]
    # The author sees everything of their own review.
    assert (mine["session_id"], mine["author"], mine["anonymous"]) == (sid, "匿名", True)
    assert not _day_start(mine["created_at"])
    hidden = {cust.user_id, cust.phone, "秘密作者", sid, mine["created_at"], mine["updated_at"]}

    # A second, named review, so the listing pages (a cursor) and a push can be compared.
    named_cust = await rig.person()
    named_sid = await session_row(rig, named_cust, comp)
    rig.clock.advance(5)
    assert (await review(rig, named_cust, named_sid, 5, text="很好"))[0] == 201

    # The reviewed companion: no session id, times to the day, not found from the session.
    status, received = await get(rig, "/api/me/reviews", comp)
    theirs = next(r for r in received["reviews"] if r["id"] == rid)
    assert (theirs["session_id"], theirs["author"]) == (None, "匿名")
    assert _day_start(theirs["created_at"]) and _day_start(theirs["updated_at"])
    named = next(r for r in received["reviews"] if r["id"] != rid)
    assert named["session_id"] == named_sid  # a named review: the session tells them nothing new
    status, by_session = await get(rig, f"/api/sessions/{sid}/review", comp)
    assert (status, by_session["review"], by_session["reason"]) == (200, None, "not_customer")
    status, author_view = await get(rig, f"/api/sessions/{sid}/review", cust)
    assert author_view["review"]["id"] == rid and author_view["review"]["session_id"] == sid

    # Pushed at once to the companion only when named: an anonymous one's arrival seconds after
    # a session ended would name its customer.
    await comp_sock.wait("review:received")
    pushed = comp_sock.seen("review:received")
    assert [p["review_id"] for p in pushed] == [named["id"]], pushed

    # What every other party can reach about the review carries none of it.
    page1 = await get(rig, f"/api/companions/{comp.user_id}/reviews", None, limit=1)
    cursor = page1[1]["next_cursor"]
    assert cursor and page1[1]["reviews"][0]["id"] == named["id"]
    reading = [
        ("GET", f"/api/companions/{comp.user_id}/reviews", None),
        ("GET", f"/api/companions/{comp.user_id}/reviews?limit=1&cursor={cursor}", None),
        ("GET", f"/api/companions/{comp.user_id}", None),
    ]
    as_companion = [
        ("GET", "/api/me/reviews", None),
        ("GET", f"/api/sessions/{sid}/review", None),
        ("POST", f"/api/reviews/{rid}/reply", {"text": "谢谢反馈"}),
        ("POST", f"/api/reviews/{rid}/report", {"reason": "false_review"}),
        ("GET", "/api/reports", None),
    ]
    as_user = [
        ("POST", f"/api/reviews/{rid}/report", {"reason": "other", "details": "?"}),
        ("GET", "/api/reports", None),
        ("GET", f"/api/sessions/{sid}/review", None),
        ("GET", "/api/me/reviews", None),
    ]
    seen: list[str] = []
    seen += await _texts(rig, None, reading)
    seen += await _texts(rig, comp, reading + as_companion)
    for who in (other_cust, other_comp):
        seen += await _texts(rig, who, reading + as_user)
    seen += [json.dumps(d, ensure_ascii=False) for _, d in comp_sock.events]
    seen += [base64.urlsafe_b64decode(cursor.split(".")[0] + "==").decode()]
    for text in seen:
        leaked = {h for h in hidden if h in text}
        assert not leaked, (leaked, text)
    assert any(rid in text for text in seen)  # the review itself was reachable

    # Another user's report names the review, not its author; admins see who and which session.
    status, report = await post(rig, f"/api/reviews/{rid}/report", other_cust, {"reason": "other"})
    assert (report["subject"], report["review_id"], report["target_id"]) == ("review", rid, None)
    status, queue = await get(rig, "/api/admin/reports", admin)
    queued = [r for r in queue["reports"] if r.get("review_id") == rid]
    assert queued and {(r["target_id"], r["call_id"]) for r in queued} == {(cust.user_id, sid)}
    status, taken_down = await post(rig, f"/api/admin/reviews/{rid}/hide", admin, {"reason": "x"})
    assert status == 200 and taken_down["session_id"] == sid
    assert not _day_start(taken_down["created_at"])  # admins moderate with the exact time
    # The author still reads their own, now hidden, with everything.
    status, written = await get(rig, "/api/me/reviews", cust)
    assert written["reviews"][0]["session_id"] == sid and written["reviews"][0]["hidden"]
    status, err = await post(rig, f"/api/reviews/{rid}/report", other_comp, {"reason": "other"})
    assert (status, code(err)) == (404, "review_not_found")
