"""The pure rules of an application: specialties, the intro, uploads by their magic bytes, what
is missing before submission, the rate bounds."""

from __future__ import annotations

import pytest

from market.vetting.checklist import check_rates, missing
from market.vetting.specialties import (
    SPECIALTIES,
    ApplicationRuleError,
    clean_intro,
    clean_specialties,
    specialties_for_tags,
)
from market.vetting.uploads import UploadRejected, check_certificate, check_voice_sample
from metering.tariff import Level, Rates
from tests.market.vetting.conftest import JPEG, MP3, MP4, OGG, PNG, WAV, WEBM


def rule_code(fn: object, *args: object) -> str:
    with pytest.raises(ApplicationRuleError) as exc:
        fn(*args)  # type: ignore[operator]
    return exc.value.code


def test_specialties_are_known_one_to_five_and_deduplicated() -> None:
    assert clean_specialties(["闲聊", "才艺", "闲聊"]) == ["闲聊", "才艺"]
    assert clean_specialties(list(SPECIALTIES[:5])) == list(SPECIALTIES[:5])
    assert rule_code(clean_specialties, list(SPECIALTIES[:6])) == "too_many_specialties"
    assert rule_code(clean_specialties, []) == "no_specialty"
    assert rule_code(clean_specialties, ["闲聊", "陪玩"]) == "unknown_specialty"
    assert specialties_for_tags(["情感", "心理", "电影", "读书"]) == [
        "情感倾诉",
        "心理咨询",
        "闲聊",
    ]


def test_the_intro_is_bounded_and_carries_no_contact_details() -> None:
    assert clean_intro("  " + "一" * 20 + "\n") == "一" * 20
    assert rule_code(clean_intro, "一" * 19) == "intro_length"
    assert clean_intro("一" * 500) == "一" * 500
    assert rule_code(clean_intro, "一" * 501) == "intro_length"
    assert rule_code(clean_intro, "一" * 20 + "\u202e") == "intro_characters"
    for text, category in [
        ("有事打我电话 138 1234 5678 随时都在线的哦朋友们", "phone"),
        ("加我微信 lily_2024 私聊更方便，等你来找我聊天哦", "messenger_id"),
        ("我的QQ号是 123456789，欢迎大家来找我一起玩游戏呀", "messenger_id"),
        ("有问题请发邮件到 lily@example.com 我会及时回复你们的", "email_url"),
        ("身份证11010519491231002X，真实可靠，请放心下单聊天", "id_card"),
    ]:
        with pytest.raises(ApplicationRuleError) as exc:
            clean_intro(text)
        assert exc.value.code == "intro_contact_details"
        assert category in exc.value.details["categories"], (text, exc.value.details)
    clean_intro("温柔耐心，擅长倾听，陪你聊聊工作和生活中的烦恼，晚上10点后在线。")


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (WEBM, "audio/webm"),
        (OGG, "audio/ogg"),
        (MP3, "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + bytes(2048), "audio/mpeg"),  # a bare MPEG frame
        (MP4, "audio/mp4"),
        (WAV, "audio/wav"),
        (WEBM, "audio/webm;codecs=opus"),
    ],
)
def test_voice_samples_of_each_type_pass(data: bytes, ctype: str) -> None:
    assert check_voice_sample(data, ctype) == ctype.split(";")[0]


@pytest.mark.parametrize(
    ("data", "ctype", "code"),
    [
        (OGG, "audio/webm", "invalid_voice_sample"),
        (b"\x1a\x45\xdf\xa3matroska" + bytes(2048), "audio/webm", "invalid_voice_sample"),
        (b"RIFF\x00\x00\x00\x00AVI " + bytes(2048), "audio/wav", "invalid_voice_sample"),
        (PNG + bytes(2048), "audio/mp4", "invalid_voice_sample"),
        (WEBM[:1023], "audio/webm", "invalid_voice_sample"),
        (b"", "audio/ogg", "invalid_voice_sample"),
        (WEBM + bytes(2 * 1024 * 1024), "audio/webm", "voice_sample_too_large"),
        (WEBM, "audio/flac", "unsupported_audio_type"),
    ],
)
def test_voice_samples_are_refused_by_their_bytes(data: bytes, ctype: str, code: str) -> None:
    with pytest.raises(UploadRejected) as exc:
        check_voice_sample(data, ctype)
    assert exc.value.code == code


def test_certificates_are_jpeg_or_png_by_their_bytes() -> None:
    assert check_certificate(PNG, "image/png") == "image/png"
    assert check_certificate(JPEG, "image/jpeg") == "image/jpeg"
    for data, ctype, code in [
        (PNG, "image/jpeg", "invalid_certificate"),
        (b"\x89PNG" + bytes(100), "image/png", "invalid_certificate"),
        (PNG[:20], "image/png", "invalid_certificate"),
        (b"GIF89a" + bytes(100), "image/gif", "unsupported_image_type"),
        (PNG + bytes(2 * 1024 * 1024), "image/png", "certificate_too_large"),
    ]:
        with pytest.raises(UploadRejected) as exc:
            check_certificate(data, ctype)
        assert exc.value.code == code


def test_what_is_missing_before_submission() -> None:
    first = {"first_application": True, "certificate_categories": set(), "certified": set()}
    assert missing(["闲聊"], has_voice_sample=False, **first) == ["voice_sample"]  # type: ignore[arg-type]
    assert missing(["闲聊"], has_voice_sample=True, **first) == []  # type: ignore[arg-type]
    assert missing(
        ["外语陪练", "心理咨询", "闲聊"],
        has_voice_sample=True,
        first_application=True,
        certificate_categories={"外语陪练"},
        certified=set(),
    ) == ["certificate:心理咨询"]
    # a companion reapplying keeps their voice sample and accepted certificates
    assert (
        missing(
            ["心理咨询"],
            has_voice_sample=False,
            first_application=False,
            certificate_categories=set(),
            certified={"心理咨询"},
        )
        == []
    )


def test_requested_rates_are_bounded_by_level_and_specialty() -> None:
    check_rates(Rates(200, 500, 1000), Level.NEWCOMER, ["闲聊"])
    check_rates(Rates(400, 1000, 2000), Level.NEWCOMER, ["心理咨询"])  # the specialist ceiling
    check_rates(Rates(400, 1000, 2000), Level.SENIOR, ["闲聊"])
    with pytest.raises(ApplicationRuleError) as exc:
        check_rates(Rates(201, 500, 1000), Level.NEWCOMER, ["闲聊"])
    assert exc.value.code == "rate_out_of_bounds"
    with pytest.raises(ApplicationRuleError) as exc:
        check_rates(Rates(49, 500, 1000), Level.NEWCOMER, ["闲聊"])
    assert exc.value.code == "rate_out_of_bounds"
    with pytest.raises(ApplicationRuleError) as exc:
        check_rates(Rates(200, 100, 1000), Level.NEWCOMER, ["闲聊"])
    assert exc.value.code == "rate_order"
