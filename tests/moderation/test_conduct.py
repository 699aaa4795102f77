"""The conduct rules: sexual content and solicitation, minors (and their escalation with a
meeting or sexual request in the same conversation), upselling pushed again and again, the
normalization they rely on (traditional characters, homophones, emoji words), and the
development set's figures."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.cues import CONTACT_REQUEST, OFF_PLATFORM_PAYMENT, OFFLINE_MEETING
from moderation.detect import Action, Category, Decision, Detector, Flag, Policy, Priority
from moderation.gate import Gated, GatedSet
from moderation.minors import MINOR
from moderation.normalize import normalize
from moderation.solicitation import SEXUAL
from moderation.upsell import PUSH
from moderation.window import Conversation, SenderWindow
from tests.moderation.fresh import HERE, load, score

KEY = b"test-key"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(KEY)


def cats(decision: Decision) -> set[str]:
    return {c.value for c in decision.categories}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("加個微信吧", "加个微信吧"),
        ("你的聯繫方式給我", "你的联系方式给我"),
        ("約🔫嗎", "约🔫吗"),  # an emoji that stands for a word is kept between characters
        ("加🐧聊", "加🐧聊"),
        ("見❤面", "见面"),
    ],
)
def test_traditional_characters_and_word_emoji(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "魏信 yaya_1122",
        "巍信：lulu9090",
        "微芯 keke_0707",
        "weixin hao: doudou_12",
        "蔻蔻 1938475602",
    ],
)
def test_homophones_read_as_the_messenger(detector: Detector, text: str) -> None:
    assert "messenger_id" in cats(detector.check(text))


@pytest.mark.parametrize(
    "text", ["维新变法", "他很有威信", "为新同事办欢迎会", "求求你了", "口口声声"]
)
def test_words_that_sound_alike_are_not_messengers(detector: Detector, text: str) -> None:
    assert detector.check(text).action is Action.ALLOW


def test_sexual_content_is_blocked_and_queued(detector: Detector) -> None:
    decision = detector.check("全套多少钱")
    assert decision.action is Action.BLOCK and decision.categories == (Category.SEXUAL,)
    assert decision.queue and "sexual" in decision.reason
    assert decision.flags == ()  # a customer sent it: nobody to protect on the other side


def test_a_companion_sending_sexual_content_flags_a_warning_for_the_customer(
    detector: Detector,
) -> None:
    decision = detector.check("开视频脱一下", sender_role="companion")
    assert decision.action is Action.BLOCK
    assert Flag.SEXUAL_WARNING in decision.flags and decision.warn_receiver


@pytest.mark.parametrize(
    "text",
    ["这个英雄出全套暴击装", "中午吃了麦当劳快餐", "跑步一次多少公里合适", "房间号 5521 密码 111"],
)
def test_look_alikes_of_solicitation_stay_fine(detector: Detector, text: str) -> None:
    assert detector.check(text).action is Action.ALLOW, cats(detector.check(text))


@pytest.mark.parametrize("text", ["我才初二", "我16岁", "还在上高一", "我未成年"])
def test_a_minor_is_reviewed_with_a_flag(detector: Detector, text: str) -> None:
    decision = detector.check(text)
    assert decision.action is Action.REVIEW and decision.categories == (Category.MINOR,)
    assert decision.flags == (Flag.MINOR,) and decision.priority is Priority.NORMAL


@pytest.mark.parametrize(
    "text",
    ["我女儿16岁了", "我16岁那年第一次出国", "我弟弟上初二", "我初二回老家", "未成年人保护法"],
)
def test_others_ages_and_the_past_are_not_minors(detector: Detector, text: str) -> None:
    assert detector.check(text).action is Action.ALLOW, cats(detector.check(text))


@pytest.mark.parametrize(
    "first",
    [("customer", "我才初二"), ("companion", "我们见面吧")],
)
def test_a_minor_and_a_meeting_in_one_conversation_escalate(
    detector: Detector, first: tuple[str, str]
) -> None:
    chat = Conversation()
    other = ("companion", "周末出来见面吧") if first[0] == "customer" else ("customer", "我才高一")
    detector.check(first[1], sender_role=first[0], now_s=0, window=chat.window(first[0]))
    decision = detector.check(
        other[1], sender_role=other[0], now_s=60, window=chat.window(other[0])
    )
    assert decision.action is Action.BLOCK and decision.priority is Priority.HIGH
    assert Category.MINOR in decision.categories and decision.queue
    assert Flag.MINOR in decision.flags


def test_the_escalation_forgets_after_the_risk_window(detector: Detector) -> None:
    chat = Conversation()
    detector.check("我才初二", now_s=0, window=chat.window("customer"))
    later = detector.check(
        "我们见面吧", sender_role="companion", now_s=4000, window=chat.window("companion")
    )
    assert later.action is Action.REVIEW and later.priority is Priority.NORMAL


def test_a_bare_age_answering_the_question_is_an_age(detector: Detector) -> None:
    chat = Conversation()
    detector.check("你多大了", sender_role="companion", now_s=0, window=chat.window("companion"))
    assert cats(detector.check("15", now_s=5, window=chat.window("customer"))) == {"minor"}
    assert detector.check("15", now_s=5).action is Action.ALLOW  # no question: a number


def test_a_policy_that_allows_minor_cues_does_not_escalate() -> None:
    detector = Detector(KEY, Policy.parse("minor=allow"))
    window = SenderWindow()
    detector.check("我才初二", now_s=0, window=window)
    decision = detector.check("我们见面吧", now_s=1, window=window)
    assert decision.action is Action.REVIEW and decision.categories == (Category.OFFLINE_MEETING,)


def test_upselling_is_flagged_from_the_second_push(detector: Detector) -> None:
    window = Conversation().window("companion")
    pushes = ["买个套餐吧", "今天好开心", "再充点吧"]
    decisions = [
        detector.check(t, sender_role="companion", now_s=i * 60, window=window)
        for i, t in enumerate(pushes)
    ]
    assert [d.action for d in decisions] == [Action.ALLOW] * 2 + [Action.REVIEW]
    last = decisions[-1]
    assert last.categories == (Category.UPSELL,) and last.flags == (Flag.UPSELL_BANNER,)
    assert last.priority is Priority.LOW and last.queue


def test_a_customer_asking_about_packages_is_not_upselling(detector: Detector) -> None:
    window = Conversation().window("customer")
    for i, text in enumerate(["买个套餐吧", "再充点吧", "续一小时嘛"]):
        assert detector.check(text, now_s=i, window=window).action is Action.ALLOW


def test_pushes_spread_over_more_than_a_session_are_not_upselling(detector: Detector) -> None:
    window = Conversation().window("companion")
    for i, text in enumerate(["买个套餐吧", "再充点吧", "续一小时嘛"]):
        decision = detector.check(text, sender_role="companion", now_s=i * 2000.0, window=window)
    assert decision.action is Action.ALLOW


def test_the_development_set() -> None:
    """Tuned on, so high by construction; the held-out figures are in fresh/HISTORY.md."""
    result = score(Detector(KEY), load(HERE / "dev.jsonl"))
    print("\n" + result.table())
    for label in result.lines:
        if label != "benign":
            assert result.recall(label) >= 0.95, label
    assert result.fp_rate <= 0.02


_ALPHABET = (
    "我你加微信威薇vxq扣🐧约炮见面吧吗1次多少全套快餐脱初二高16岁充续 ,，\n@房间号进来"
    "0285块包夜"  # digit runs and prices: the test of the first two characters
)


_PATTERNS = (CONTACT_REQUEST, OFFLINE_MEETING, OFF_PLATFORM_PAYMENT, SEXUAL, MINOR, PUSH)
_GATED = [Gated(p) for p in _PATTERNS]
_ONE_PASS = GatedSet(list(_PATTERNS))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=30))
def test_the_gate_finds_what_the_pattern_finds(text: str) -> None:
    for pattern, gated in zip(_PATTERNS, _GATED, strict=True):
        assert [m.span() for m in gated.finditer(text)] == [
            m.span() for m in pattern.finditer(text)
        ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=30))
def test_one_pass_over_all_patterns_finds_what_each_finds(text: str) -> None:
    each = _ONE_PASS.finditer_each(text)
    assert [[m.span() for m in found] for found in each] == [
        [m.span() for m in pattern.finditer(text)] for pattern in _PATTERNS
    ]


def test_a_pattern_that_may_start_anywhere_is_not_gated() -> None:
    for source in (r".x", r"[^a]b", r"a?", r"\wz"):
        pattern = re.compile(source)
        assert [m.span() for m in Gated(pattern).finditer("xx ab z")] == [
            m.span() for m in pattern.finditer("xx ab z")
        ]
