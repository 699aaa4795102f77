"""Companion applications over HTTP: apply, upload, submit, the admin's queue and decision, the
public voice sample; every refusal on the way; the audit lines."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from kernel.clock import FakeClock
from store.models import CompanionRate, User
from store.models.vetting import CompanionProfile
from tests.harness.rig import Rig, RigFactory
from tests.market.vetting.conftest import (
    FORM,
    JPEG,
    MP3,
    MP4,
    OGG,
    PNG,
    WAV,
    WEBM,
    applicant,
    call,
    certificate,
    code,
    decide,
    submitted,
    verify,
    voice,
)

COUNSELLING = FORM | {
    "specialties": ["心理咨询", "情感倾诉"],
    "text_fen_per_min": 200,
    "voice_fen_per_min": 800,  # above the newcomer ceiling (500): the specialist one (1000)
    "video_fen_per_min": 2000,
}


async def test_apply_upload_submit_approve_and_the_companion_is_listed(rig: Rig) -> None:
    who = await applicant(rig)
    status, body = await call(rig, "GET", "/api/me/application", who)
    assert (status, body) == (200, {"application": None})

    status, body = await call(rig, "PUT", "/api/me/application", who, json=COUNSELLING)
    assert status == 200, body
    assert body["status"] == "draft" and not body["can_submit"]
    assert body["missing"] == ["voice_sample", "certificate:心理咨询"]
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert (status, code(body)) == (400, "application_incomplete")
    assert body["error"]["details"]["missing"] == ["voice_sample", "certificate:心理咨询"]

    status, body = await voice(rig, who)
    assert status == 200 and body["voice_sample"]["content_type"] == "audio/webm"
    status, body = await certificate(rig, who, "心理咨询", JPEG, "image/jpeg")
    assert status == 201, body
    assert body["missing"] == [] and body["can_submit"]
    cert_id = body["certificates"][0]["id"]
    # the applicant reads their own uploads back
    status, data = await call(rig, "GET", "/api/me/application/voice-sample", who)
    assert (status, data) == (200, WEBM)
    status, data = await call(rig, "GET", f"/api/me/application/certificates/{cert_id}", who)
    assert (status, data) == (200, JPEG)

    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert status == 200 and body["status"] == "pending", body
    app_id = body["id"]

    admin = await rig.person("admin")
    status, body = await call(rig, "GET", "/api/admin/applications", admin)
    assert status == 200
    (queued,) = [a for a in body["applications"] if a["id"] == app_id]
    assert queued["real_name_masked"] == "王**" and queued["role"] == "customer"
    assert queued["specialties"] == ["心理咨询", "情感倾诉"] and queued["intro"] == FORM["intro"]
    assert queued["rates"] == {
        "text_fen_per_min": 200,
        "voice_fen_per_min": 800,
        "video_fen_per_min": 2000,
    }
    assert queued["voice_sample"]["url"] == f"/api/admin/applications/{app_id}/voice-sample"
    status, data = await call(rig, "GET", queued["voice_sample"]["url"], admin)
    assert (status, data) == (200, WEBM)
    status, data = await call(rig, "GET", queued["certificates"][0]["url"], admin)
    assert (status, data) == (200, JPEG)

    status, body = await decide(rig, admin, app_id, True)
    assert status == 200, body
    assert (body["status"], body["role"], body["level"]) == ("approved", "companion", "newcomer")

    me = await (
        await rig.http.get("/api/me", headers={"Authorization": f"Bearer {who.token}"})
    ).json()
    assert me["role"] == "companion"
    status, listed = await call(rig, "GET", f"/api/companions/{who.user_id}", None)
    assert status == 200 and listed["rates"] == {"text": 200, "voice": 800, "video": 2000}
    async with rig.db.reading() as s:
        profile = await s.get(CompanionProfile, who.user_id)
        rates = await s.get(CompanionRate, who.user_id)
    assert profile is not None and rates is not None
    assert profile.specialties == ["心理咨询", "情感倾诉"] and profile.certified == ["心理咨询"]
    assert (profile.gender, profile.intro, profile.voice_sample_version) == (
        "female",
        FORM["intro"],
        1,
    )
    assert profile.approved_at == rig.clock.now()
    assert (rates.level, rates.specialist) == ("newcomer", True)

    resp = await rig.http.get(f"/api/companions/{who.user_id}/voice-sample")
    assert resp.status == 200 and await resp.read() == WEBM
    assert resp.content_type == "audio/webm" and resp.headers["ETag"] == '"v1"'
    assert "max-age" in resp.headers["Cache-Control"]
    again = await rig.http.get(
        f"/api/companions/{who.user_id}/voice-sample", headers={"If-None-Match": '"v1"'}
    )
    assert again.status == 304

    # the audit line, written with the decision
    log = await (
        await rig.http.get(
            f"/api/admin/audit?subject_type=application&subject_id={app_id}",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
    ).json()
    (entry,) = log["entries"]
    assert (entry["action"], entry["admin_id"]) == ("application.approve", admin.user_id)
    assert entry["detail"]["user_id"] == who.user_id and entry["detail"]["level"] == "newcomer"

    # deciding twice
    status, body = await decide(rig, admin, app_id, False, "再看看")
    assert (status, code(body)) == (409, "application_decided")


async def test_reject_with_reason_then_reapply_and_approve(rig: Rig) -> None:
    who = await applicant(rig)
    admin = await rig.person("admin")
    app_id = await submitted(rig, who)

    status, body = await decide(rig, admin, app_id, False, "")
    assert (status, code(body)) == (400, "reason_required")
    status, body = await decide(rig, admin, app_id, False, "   ")
    assert (status, code(body)) == (400, "reason_required")
    status, body = await decide(rig, admin, app_id, False, "语音样本听不清，请重新录制")
    assert status == 200 and body["status"] == "rejected"

    status, body = await call(rig, "GET", "/api/me/application", who)
    mine = body["application"]
    assert (mine["id"], mine["status"], mine["reason"]) == (
        app_id,
        "rejected",
        "语音样本听不清，请重新录制",
    )
    async with rig.db.reading() as s:
        user = await s.get(User, who.user_id)
    assert user is not None and user.role == "customer"

    # editing again opens a new draft; the uploads come along
    status, body = await call(rig, "PUT", "/api/me/application", who, json=FORM)
    assert status == 200 and body["status"] == "draft" and body["id"] != app_id
    assert body["voice_sample"] is not None and body["missing"] == []
    status, body = await voice(rig, who, OGG, "audio/ogg")
    assert status == 200
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert status == 200, body
    second = body["id"]
    status, body = await decide(rig, admin, second, True)
    assert status == 200 and body["role"] == "companion"
    resp = await rig.http.get(f"/api/companions/{who.user_id}/voice-sample")
    assert resp.content_type == "audio/ogg"

    log = await (
        await rig.http.get(
            "/api/admin/audit?subject_type=application",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
    ).json()
    assert [(e["subject_id"], e["action"]) for e in log["entries"]] == [
        (second, "application.approve"),
        (app_id, "application.reject"),
    ]
    assert log["entries"][1]["detail"]["reason"] == "语音样本听不清，请重新录制"
    # the rejected application's queue shows its reason
    status, body = await call(rig, "GET", "/api/admin/applications?status=rejected", admin)
    assert [a["reason"] for a in body["applications"]] == ["语音样本听不清，请重新录制"]


async def test_a_companion_reapplies_to_change_specialties_within_their_level(rig: Rig) -> None:
    who = await applicant(rig)
    admin = await rig.person("admin")
    await decide(rig, admin, await submitted(rig, who), True)
    async with rig.db.writing() as s:
        rates = await s.get(CompanionRate, who.user_id)
        assert rates is not None
        rates.level = "senior"

    # a senior may ask for senior prices; no new voice sample needed
    senior = FORM | {"specialties": ["游戏陪玩", "闲聊"], "video_fen_per_min": 1800}
    status, body = await call(rig, "PUT", "/api/me/application", who, json=senior)
    assert status == 200 and body["missing"] == [], body
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert status == 200 and body["reapplication"], body
    status, body = await call(rig, "GET", "/api/admin/applications", admin)
    (queued,) = [a for a in body["applications"] if a["user_id"] == who.user_id]
    assert (queued["reapplication"], queued["level"], queued["voice_sample"]) == (
        True,
        "senior",
        None,
    )
    status, body = await decide(rig, admin, queued["id"], True)
    assert status == 200, body
    async with rig.db.reading() as s:
        profile = await s.get(CompanionProfile, who.user_id)
        rates = await s.get(CompanionRate, who.user_id)
    assert profile is not None and rates is not None
    assert profile.specialties == ["游戏陪玩", "闲聊"] and profile.voice_sample_version == 1
    assert (rates.level, rates.video_fen_per_min) == ("senior", 1800)  # the level stays


async def test_real_name_and_adulthood_come_first(rig: Rig, clock: FakeClock) -> None:
    nobody = await rig.person()
    status, body = await call(rig, "PUT", "/api/me/application", nobody, json=FORM)
    assert (status, code(body)) == (400, "real_name_required")

    minor = await rig.person()
    await verify(rig, minor, born=date(2010, 3, 1))  # 15 on the fake clock's 2026-01-01
    status, body = await call(rig, "PUT", "/api/me/application", minor, json=FORM)
    assert (status, code(body)) == (400, "minor_not_allowed")
    status, body = await call(rig, "POST", "/api/me/application/submit", minor)
    assert (status, code(body)) == (400, "minor_not_allowed")

    admin = await rig.person("admin")
    await verify(rig, admin)
    status, body = await call(rig, "PUT", "/api/me/application", admin, json=FORM)
    assert (status, code(body)) == (403, "admin_cannot_apply")
    assert (await call(rig, "GET", "/api/me/application", None))[0] == 401


async def test_every_field_rule_is_refused_with_its_code(rig: Rig) -> None:
    who = await applicant(rig)

    async def put(**change: object) -> tuple[int, str]:
        status, body = await call(rig, "PUT", "/api/me/application", who, json=FORM | change)
        return status, code(body)

    assert await put(specialties=["算命"]) == (400, "unknown_specialty")
    assert await put(specialties=[]) == (400, "no_specialty")
    six = ["情感倾诉", "游戏陪玩", "外语陪练", "考研辅导", "职场咨询", "闲聊"]
    assert await put(specialties=six) == (400, "too_many_specialties")
    assert await put(specialties=["闲聊"] * 30) == (400, "invalid_input")  # payload cap
    assert await put(intro="太短了") == (400, "intro_length")
    assert await put(intro="长" * 501) == (400, "intro_length")
    assert await put(intro="你好" * 10 + "\u200b隐藏") == (400, "intro_characters")
    status, body = await call(
        rig,
        "PUT",
        "/api/me/application",
        who,
        json=FORM | {"intro": "想聊天的话直接打我电话13812345678，或者加微信 abc_12345 也行哦"},
    )
    assert (status, code(body)) == (400, "intro_contact_details")
    assert {"phone", "messenger_id"} <= set(body["error"]["details"]["categories"])
    assert await put(intro="联系邮箱 someone@example.com 欢迎来信交流，期待你的到来呀") == (
        400,
        "intro_contact_details",
    )
    assert await put(gender="other") == (400, "invalid_input")
    # newcomer bounds: text ≤ 200, voice ≤ 500, video ≤ 1000; rising across modes
    assert await put(text_fen_per_min=201) == (400, "rate_out_of_bounds")
    assert await put(voice_fen_per_min=800) == (400, "rate_out_of_bounds")  # not a specialist
    assert await put(text_fen_per_min=49) == (400, "rate_out_of_bounds")
    assert await put(voice_fen_per_min=90) == (400, "rate_order")
    status, body = await call(rig, "PUT", "/api/me/application", who, json=FORM | {"unknown": 1})
    assert (status, code(body)) == (400, "invalid_input")
    # a benign intro with numbers passes
    status, body = await call(
        rig,
        "PUT",
        "/api/me/application",
        who,
        json=FORM | {"intro": "从业3年的倾听者，每天晚上8点到12点在线，陪你聊聊心事。"},
    )
    assert status == 200, body


async def test_uploads_are_checked_by_their_bytes(rig: Rig) -> None:
    who = await applicant(rig)
    status, body = await voice(rig, who)
    assert (status, code(body)) == (404, "application_not_found")  # no draft yet
    await call(rig, "PUT", "/api/me/application", who, json=FORM)

    for data, ctype in (
        (WEBM, "audio/webm"),
        (OGG, "audio/ogg"),
        (MP3, "audio/mpeg"),
        (MP4, "audio/mp4"),
        (WAV, "audio/wav"),
    ):
        status, body = await voice(rig, who, data, ctype)
        assert status == 200 and body["voice_sample"]["content_type"] == ctype, (ctype, body)
    status, body = await voice(rig, who, OGG, "audio/webm")  # the header lies
    assert (status, code(body)) == (400, "invalid_voice_sample")
    status, body = await voice(rig, who, PNG + bytes(2048), "audio/mpeg")
    assert (status, code(body)) == (400, "invalid_voice_sample")
    status, body = await voice(rig, who, WEBM[:500], "audio/webm")  # too short to be a voice
    assert (status, code(body)) == (400, "invalid_voice_sample")
    status, body = await voice(rig, who, WEBM, "video/webm")
    assert (status, code(body)) == (415, "unsupported_media_type")
    status, body = await voice(rig, who, WEBM + bytes(2 * 1024 * 1024), "audio/webm")
    assert status == 413 and code(body) in ("payload_too_large", "voice_sample_too_large")

    status, body = await certificate(rig, who, "心理咨询", JPEG, "image/png")
    assert (status, code(body)) == (400, "invalid_certificate")
    status, body = await certificate(rig, who, "心理咨询", b"GIF89a" + bytes(200), "image/gif")
    assert (status, code(body)) == (415, "unsupported_media_type")
    status, body = await certificate(rig, who, "算命", PNG)
    assert (status, code(body)) == (400, "invalid_category")
    status, body = await certificate(rig, who, "心理咨询", PNG + bytes(2 * 1024 * 1024))
    assert status == 413
    for _ in range(5):
        status, body = await certificate(rig, who, "外语陪练")
        assert status == 201, body
    status, body = await certificate(rig, who, "心理咨询")
    assert (status, code(body)) == (400, "too_many_certificates")
    cert_id = body_id = (await call(rig, "GET", "/api/me/application", who))[1]["application"][
        "certificates"
    ][0]["id"]
    status, body = await call(rig, "DELETE", f"/api/me/application/certificates/{cert_id}", who)
    assert status == 200 and len(body["certificates"]) == 4
    assert body_id not in [c["id"] for c in body["certificates"]]


async def test_a_pending_application_is_frozen_and_one_is_open_at_a_time(rig: Rig) -> None:
    who = await applicant(rig)
    await call(rig, "PUT", "/api/me/application", who, json=COUNSELLING)
    await voice(rig, who)
    status, body = await certificate(rig, who, "心理咨询")
    cert_id = body["certificates"][0]["id"]
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert status == 200

    status, body = await call(rig, "PUT", "/api/me/application", who, json=COUNSELLING)
    assert (status, code(body)) == (409, "application_pending")
    assert code((await voice(rig, who))[1]) == "application_pending"
    assert code((await certificate(rig, who, "心理咨询"))[1]) == "application_pending"
    status, body = await call(rig, "DELETE", f"/api/me/application/certificates/{cert_id}", who)
    assert (status, code(body)) == (409, "application_pending")
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert (status, code(body)) == (409, "application_pending")
    async with rig.db.reading() as s:
        from store.models.vetting import CompanionApplication

        rows = (
            await s.scalars(
                select(CompanionApplication).where(CompanionApplication.user_id == who.user_id)
            )
        ).all()
    assert len(rows) == 1


async def test_only_admins_decide_and_files_are_private(rig: Rig) -> None:
    who = await applicant(rig)
    other = await applicant(rig)
    await call(rig, "PUT", "/api/me/application", who, json=COUNSELLING)
    await voice(rig, who)
    _, body = await certificate(rig, who, "心理咨询")
    cert_id = body["certificates"][0]["id"]

    # an admin does not see a draft
    admin = await rig.person("admin")
    status, body = await call(
        rig, "GET", f"/api/admin/applications/{body['id']}/voice-sample", admin
    )
    assert (status, code(body)) == (404, "voice_sample_not_found")
    _, body = await call(rig, "POST", "/api/me/application/submit", who)
    app_id = body["id"]

    # someone else: not the admin's endpoints, not the applicant's files
    for path in (
        "/api/admin/applications",
        f"/api/admin/applications/{app_id}/voice-sample",
        f"/api/admin/applications/{app_id}/certificates/{cert_id}",
    ):
        assert (await call(rig, "GET", path, other))[0] == 403
        assert (await call(rig, "GET", path, None))[0] == 401
    status, body = await decide(rig, other, app_id, True)
    assert (status, code(body)) == (403, "forbidden")
    status, body = await call(rig, "GET", f"/api/me/application/certificates/{cert_id}", other)
    assert (status, code(body)) == (404, "certificate_not_found")
    status, body = await call(rig, "DELETE", f"/api/me/application/certificates/{cert_id}", other)
    assert (status, code(body)) == (404, "certificate_not_found")
    status, body = await call(rig, "GET", "/api/me/application/voice-sample", other)
    assert (status, code(body)) == (404, "voice_sample_not_found")
    status, body = await call(
        rig, "GET", f"/api/admin/applications/{app_id}/certificates/nope", admin
    )
    assert (status, code(body)) == (404, "certificate_not_found")
    status, body = await decide(rig, admin, "apl_nope", True)
    assert (status, code(body)) == (404, "application_not_found")

    # the public voice sample: none before approval, none for a non-companion
    assert (await call(rig, "GET", f"/api/companions/{who.user_id}/voice-sample", None))[0] == 404
    await decide(rig, admin, app_id, True)
    assert (await call(rig, "GET", f"/api/companions/{who.user_id}/voice-sample", None))[0] == 200
    async with rig.db.writing() as s:
        user = await s.get(User, who.user_id)
        assert user is not None
        user.role = "customer"
    assert (await call(rig, "GET", f"/api/companions/{who.user_id}/voice-sample", None))[0] == 404


async def test_an_applicant_made_admin_meanwhile_is_not_demoted(rig: Rig) -> None:
    who = await applicant(rig)
    app_id = await submitted(rig, who)
    async with rig.db.writing() as s:
        user = await s.get(User, who.user_id)
        assert user is not None
        user.role = "admin"
    admin = await rig.person("admin")
    status, body = await decide(rig, admin, app_id, True)
    assert (status, code(body)) == (403, "admin_cannot_apply")
    async with rig.db.reading() as s:
        user = await s.get(User, who.user_id)
        assert user is not None and user.role == "admin"
        assert await s.get(CompanionProfile, who.user_id) is None
    log = await (
        await rig.http.get(
            f"/api/admin/audit?subject_id={app_id}",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
    ).json()
    assert log["entries"] == []  # nothing happened, nothing logged


async def test_submissions_per_day_and_the_cooldown_after_a_rejection(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(
        clock, vetting_submissions_per_day=2, vetting_reapply_cooldown_s=3600
    ) as rig:
        who = await applicant(rig)
        admin = await rig.person("admin")
        first = await submitted(rig, who)
        await decide(rig, admin, first, False, "简介太简单")
        await call(rig, "PUT", "/api/me/application", who, json=FORM)
        status, body = await call(rig, "POST", "/api/me/application/submit", who)
        assert (status, code(body)) == (429, "reapply_cooldown")
        assert body["error"]["details"]["retry_after_s"] == 3601
        clock.advance(3600)
        status, body = await call(rig, "POST", "/api/me/application/submit", who)
        assert status == 200, body
        await decide(rig, admin, body["id"], False, "还是太简单")
        clock.advance(3600)
        await call(rig, "PUT", "/api/me/application", who, json=FORM)
        status, body = await call(rig, "POST", "/api/me/application/submit", who)
        assert (status, code(body)) == (429, "too_many_submissions")
        clock.advance(24 * 3600 - 7200)  # the first submission leaves the 24 h window
        status, body = await call(rig, "POST", "/api/me/application/submit", who)
        assert status == 200, body


@pytest.mark.both_databases
async def test_the_admin_queue_is_oldest_first(rig: Rig) -> None:
    admin = await rig.person("admin")
    ids = []
    for _ in range(3):
        who = await applicant(rig)
        ids.append(await submitted(rig, who))
        rig.clock.advance(60)
    status, body = await call(rig, "GET", "/api/admin/applications?status=pending", admin)
    assert status == 200 and [a["id"] for a in body["applications"]] == ids
    _, body = await call(rig, "GET", "/api/admin/applications?limit=2", admin)
    assert [a["id"] for a in body["applications"]] == ids[:2]
    assert (await call(rig, "GET", "/api/admin/applications?status=draft", admin))[0] == 400
    assert (await call(rig, "GET", "/api/admin/applications?limit=101", admin))[0] == 400


async def test_the_specialty_list_is_published(rig: Rig) -> None:
    status, body = await call(rig, "GET", "/api/specialties", None)
    assert status == 200
    assert body["specialties"][0] == "情感倾诉" and len(body["specialties"]) == 9
    assert set(body["specialist"]) == {"心理咨询", "外语陪练"}
    assert (body["max_specialties"], body["intro_min_chars"], body["intro_max_chars"]) == (
        5,
        20,
        500,
    )


@pytest.mark.both_databases
async def test_racing_requests_open_one_draft_and_decide_once(rig: Rig) -> None:
    who = await applicant(rig)
    results = await asyncio.gather(
        *(call(rig, "PUT", "/api/me/application", who, json=FORM) for _ in range(4))
    )
    assert {status for status, _ in results} == {200}
    assert len({body["id"] for _, body in results}) == 1  # one open application
    await voice(rig, who)
    _, body = await call(rig, "POST", "/api/me/application/submit", who)
    admin = await rig.person("admin")
    decisions = await asyncio.gather(
        decide(rig, admin, body["id"], True), decide(rig, admin, body["id"], False, "不行")
    )
    assert sorted(status for status, _ in decisions) == [200, 409]
    log = await (
        await rig.http.get(
            f"/api/admin/audit?subject_id={body['id']}",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
    ).json()
    assert len(log["entries"]) == 1
