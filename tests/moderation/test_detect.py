"""Chat content detection: the labelled corpus (recall per category, false positives over benign
lines), and the rules under it: normalization, GB 11643, Luhn, masking, the policy, the
multi-message window and the warning to the customer."""

from __future__ import annotations

import hashlib
import hmac
import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.detect import (
    MASK,
    MAX_TEXT_CHARS,
    Action,
    Category,
    Decision,
    Detector,
    Policy,
)
from moderation.ngram import Model
from moderation.normalize import normalize
from moderation.numbers import blank_benign, id_card_valid, luhn_valid, scan_numbers
from moderation.window import Conversation, SenderWindow
from tests.moderation.corpus import BENIGN, load, score

KEY = b"test-key"
MIN_RECALL = 0.99
MAX_FALSE_POSITIVE_RATE = 0.01


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(KEY)


def cats(decision: Decision) -> set[str]:
    return {c.value for c in decision.categories}


# ---------------------------------------------------------------- the corpus


def test_corpus_recall_and_false_positive_rate(detector: Detector) -> None:
    lines = load()
    result = score(detector, lines)
    print("\n" + result.table())
    assert len(lines) >= 500
    for label, missed in result.missed.items():
        for line in missed:
            print(f"missed {label}: {line.messages!r} ({line.source})")
    for line, found in result.false_positives:
        print(f"false positive {sorted(found)}: {line.messages!r} ({line.source})")
    for category in Category:
        assert result.lines[category] >= 40, category
        assert result.recall(category) >= MIN_RECALL, category
    assert result.benign_lines >= 300
    assert result.fp_rate <= MAX_FALSE_POSITIVE_RATE


def test_corpus_has_every_evasion_and_every_benign_look_alike() -> None:
    lines = load()
    kinds = {line.kind for line in lines if line.label != BENIGN}
    for kind in (
        "fullwidth",
        "zero_width",
        "chinese",
        "circled",
        "keycap",
        "spaced",
        "dotted",
        "separators",
        "lookalike",
        "split",
        "mixed_script",
        "emoji",
        "email_evasion",
        "url_evasion",
        "landline",
    ):
        assert kind in kinds, kind
    benign = {line.kind for line in lines if line.label == BENIGN}
    for kind in ("price", "duration", "date", "time", "order_id", "score", "rank", "chat"):
        assert kind in benign, kind
    assert {"emotional", "near_miss", "split", "long_number"} <= benign
    split = {line.label for line in lines if len(line.messages) > 1}
    assert {"phone", "id_card", "bank_card", "messenger_id", BENIGN} <= split


# ---------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１３８ｖｘ＠ＱＱ", "138vx@qq"),  # full-width to half-width, lower-case
        ("微\u200b信\u2060号\ufeff", "微信号"),  # format characters (Cf) removed
        ("1\u00ad3\u200d8", "138"),
        ("幺三八零〇两", "138002"),
        ("壹贰叁肆伍陆柒捌玖零", "1234567890"),
        ("三十五 二十 十三 十分钟", "35 20 13 十分钟"),
        ("①③⑧ ❶❸❽ ⓵", "138 138 1"),
        ("⑩⑳", "1020"),
        ("1️⃣3️⃣8️⃣🔟", "13810"),  # keycap digits
        ("𝟏𝟑𝟖 ¹³⁸", "138 138"),
        ("ⓥⓧ 𝐯𝐱 vх", "vx vx vx"),  # circled, math bold, Cyrillic х
        ("微 信 多 少", "微信多少"),
        ("见❤面", "见面"),
        ("发个🧧给我", "发个🧧给我"),  # the red-envelope emoji means 红包: kept
        ("ok lol", "ok lol"),  # letters that look like digits stay letters here
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_normalize_keeps_a_map_back_to_the_original(raw: str) -> None:
    norm = normalize(raw)
    if norm.origin is None:
        assert len(norm.text) == len(raw)
        return
    assert len(norm.origin) == len(norm.text)
    assert list(norm.origin) == sorted(norm.origin)
    assert all(0 <= i < len(raw) for i in norm.origin)
    if norm.text:
        start, end = norm.span_in_original(0, len(norm.text))
        assert 0 <= start < end <= len(raw)


def test_normalize_matches_nfkc_on_every_ascii_result() -> None:
    """Every character NFKC turns into one ASCII digit or letter is in the table (so no
    compatibility form of a digit slips through)."""
    for cp in range(0x30000):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        nfkc = unicodedata.normalize("NFKC", c)
        if len(nfkc) == 1 and nfkc.isascii() and nfkc.isalnum():
            assert normalize(c).text == nfkc.lower(), hex(cp)


# ---------------------------------------------------------------- checksums


def test_gb11643_check_character() -> None:
    assert id_card_valid("11010519491231002x")  # GB 11643-1999's own example
    assert id_card_valid("440305199003071236")
    assert not id_card_valid("11010519491231002") and not id_card_valid("110105194912310021")
    assert not id_card_valid("440305199003071235")  # wrong check digit
    assert not id_card_valid("440305199013071234")  # month 13
    assert not id_card_valid("440305199002301238")  # 30 February
    assert not id_card_valid("040305199003071236")  # no region starts with 0


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert luhn_valid("4111111111111111")
    assert luhn_valid("6217000012345678907")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("6217000012345678901")


def test_a_bad_check_character_counts_only_beside_an_id_or_card_cue(detector: Detector) -> None:
    # people retype and make up numbers: with the cue said, the checksum adds nothing
    assert "id_card" in cats(detector.check("身份证 440305199003071235"))
    assert "bank_card" in cats(detector.check("卡号 6222 0212 3456 7890 123"))
    assert "bank_card" in cats(detector.check("6217001234567890 这是我的卡号"))
    # bare, a number that fails its checksum is an order number or a score
    assert cats(detector.check("440305199003071235")) == set()
    assert cats(detector.check("6222021234567890123")) == set()
    assert cats(detector.check("订单号 6222021234567890123")) == set()


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "l38l2345678",  # look-alike letters, even first
        "Ⅰ3812345678",  # a Roman numeral one
        "+86 138 1234 5678",
        "0086-13812345678",
        "010-62345678",
        "0755 8600 1234",
        "(021) 6234 5678",
        "电话 82345678",  # a local number only with a cue
        "号码 138 1234 5678 45元",
    ],
)
def test_phone_numbers(detector: Detector, text: str) -> None:
    assert cats(detector.check(text)) == {"phone"}


@pytest.mark.parametrize(
    "text",
    [
        "订单号 T" + "ab12" * 5,
        "u_2bdecdf37af21f3dcf1fbbd7 这是我的用户id",  # a fixed id: xdist collects the same tests
        "call_" + "0123456789abcdef" * 2,
        "2024-05-12 13:45:30",
        "2024/5/12 14:30-16:00",
        "¥45",
        "45元一小时",
        "60分钟",
        "比分3:1",
        "星耀二 50星",
        "支付宝交易号 2024051222001412345678901234",
        "订单号 4012345678901234567",
        "82345678",  # 8 digits without a phone cue
        "战力加了 23456 分",  # 加 before a number, but a unit after it
        "202405121345",  # a compact timestamp is no landline
    ],
)
def test_look_alikes_stay_fine(detector: Detector, text: str) -> None:
    assert detector.check(text).action is Action.ALLOW, cats(detector.check(text))


def test_platform_ids_are_blanked_not_read_as_numbers() -> None:
    call_id = "call_" + "13812345678" + "0" * 21
    assert blank_benign(call_id) == "\x00" * len(call_id)
    assert scan_numbers(blank_benign(f"会话 {call_id}"))[0] == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["u", "s", "g", "w", "call", "T", "PAY", "po", "SB"]), st.randoms())
def test_every_platform_id_shape_is_allowed(prefix: str, rnd: random.Random) -> None:
    hex_len = {"u": 24, "s": 24, "g": 20, "w": 20, "call": 32, "T": 20, "PAY": 12}
    n = hex_len.get(prefix, 16)
    ident = f"{prefix}{'' if prefix in ('T', 'PAY', 'SB') else '_'}"
    ident += "".join(rnd.choice("0123456789abcdef") for _ in range(n))
    decision = Detector(KEY).check(f"订单 {ident} 还没到账")
    assert decision.action is Action.ALLOW, (ident, cats(decision))


_MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_SPELLINGS = [
    lambda d: d,
    lambda d: " ".join(d),
    lambda d: ".".join(d),
    lambda d: "-".join([d[:3], d[3:7], d[7:]]),
    lambda d: d.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda d: d.translate(str.maketrans("0123456789", "零一二三四五六七八九")),
    lambda d: d.translate(str.maketrans("0123456789", "零壹贰叁肆伍陆柒捌玖")),
    lambda d: d.translate(str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")),
    lambda d: "".join(c + "\ufe0f\u20e3" for c in d),
    lambda d: "\u200b".join(d),
    lambda d: "❤".join(d),
]


@settings(max_examples=300, deadline=None)
@given(_MOBILE, st.sampled_from(range(len(_SPELLINGS))), st.sampled_from(["", "我的号 ", "打 "]))
def test_every_spelling_of_a_mobile_number_is_caught_and_masked(
    number: str, spelling: int, prefix: str
) -> None:
    text = prefix + _SPELLINGS[spelling](number) + " 找我"
    decision = Detector(KEY).check(text)
    assert "phone" in cats(decision), text
    assert decision.text == prefix + MASK + " 找我"


# ---------------------------------------------------------------- decisions


def test_mask_replaces_only_the_match(detector: Detector) -> None:
    decision = detector.check("我的号１３８ １２３４ ５６７８，晚上打")
    assert decision.action is Action.MASK
    assert decision.text == "我的号****，晚上打"
    assert decision.categories == (Category.PHONE,)
    assert not decision.reason


def test_mask_covers_keycaps_and_zero_width_characters(detector: Detector) -> None:
    keycaps = "".join(c + "\ufe0f\u20e3" for c in "13812345678")
    assert detector.check(f"{keycaps}!").text == "****!"
    assert detector.check("vx：abc\u200b_123 加我").text == "vx：**** 加我"


def test_block_tells_the_sender_why_and_masks_what_it_keeps(detector: Detector) -> None:
    decision = detector.check("身份证 11010519491231002X 帮我查")
    assert decision.action is Action.BLOCK
    assert decision.text == "身份证 **** 帮我查"
    assert "ID card" in decision.reason


def test_review_delivers_as_written(detector: Detector) -> None:
    decision = detector.check("我们见面吧")
    assert (decision.action, decision.text) == (Action.REVIEW, "我们见面吧")
    assert decision.categories == (Category.OFFLINE_MEETING,)


def test_the_most_severe_action_wins_and_masks_still_apply(detector: Detector) -> None:
    decision = detector.check("加我微信 xiaomei520")
    assert decision.action is Action.REVIEW  # contact_request is reviewed …
    assert decision.text == "加我微信 ****"  # … and the ID masked all the same
    assert cats(decision) == {"messenger_id", "contact_request"}


@pytest.mark.parametrize("key_len", [1, 32, 63, 64, 65, 200])
def test_value_hash_is_hmac_sha256_of_category_and_value(key_len: int) -> None:
    key = bytes(range(7, 7 + key_len))  # shorter, as long as and longer than a block
    [finding] = Detector(key).check("13812345678").findings
    expected = hmac.new(key, b"phone:13812345678", hashlib.sha256).hexdigest()
    assert finding.value_hash == expected


def test_value_hashes_are_keyed_and_never_the_value() -> None:
    one = Detector(b"key-1").check("13812345678")
    again = Detector(b"key-1").check("１３８ １２３４ ５６７８")
    other = Detector(b"key-2").check("13812345678")
    [finding] = one.findings
    assert finding.value_hash == again.findings[0].value_hash  # same number, however spelled
    assert finding.value_hash != other.findings[0].value_hash
    logged = str(one.log_fields())
    assert "13812345678" not in logged and "5678" not in logged
    assert set(one.log_fields()) == {
        "action",
        "categories",
        "value_hashes",
        "warn_receiver",
        "flags",
        "priority",
        "queue",
    }


def test_an_overlong_text_is_blocked_unread(detector: Detector) -> None:
    decision = detector.check("好" * (MAX_TEXT_CHARS + 1))
    assert (decision.action, decision.text) == (Action.BLOCK, "")
    assert detector.check("1 " * (MAX_TEXT_CHARS // 2)).action is Action.ALLOW  # and in time


def test_a_detector_needs_a_key() -> None:
    with pytest.raises(ValueError):
        Detector(b"")


def test_policy_is_configurable() -> None:
    strict = Detector(KEY, Policy.parse("phone=block, offline_meeting=allow"))
    decision = strict.check("13812345678")
    assert decision.action is Action.BLOCK and "phone numbers" in decision.reason
    assert strict.check("我们见面吧").action is Action.ALLOW
    assert strict.check("我们见面吧").categories == ()  # an allowed category is not reported
    assert strict.policy.action(Category.ID_CARD) is Action.BLOCK  # the rest: defaults
    for bad in ("phone=ban", "fax=block", "phone"):
        with pytest.raises(ValueError):
            Policy.parse(bad)


def test_the_default_policy() -> None:
    policy = Policy()
    assert {c.value: policy.action(c).value for c in Category} == {
        "phone": "mask",
        "messenger_id": "mask",
        "contact_request": "review",
        "email_url": "mask",
        "id_card": "block",
        "bank_card": "block",
        "offline_meeting": "review",
        "off_platform_payment": "review",
        "sexual": "block",
        "minor": "review",
        "upsell": "review",
    }


@pytest.mark.parametrize(
    ("text", "warned"),
    [
        ("加我微信吧", True),
        ("我们见面吧", True),
        ("私下转账便宜点", True),
        ("13812345678", True),
        ("身份证 11010519491231002X", False),  # the companion's own ID: blocked, no lure
        ("今天好开心", False),
    ],
)
def test_the_customer_is_warned_when_a_companion_asks(
    detector: Detector, text: str, warned: bool
) -> None:
    assert detector.check(text, sender_role="companion").warn_receiver is warned
    assert detector.check(text, sender_role="customer").warn_receiver is False


def test_a_negated_request_is_a_warning_not_a_request(detector: Detector) -> None:
    assert detector.check("千万不要私下转账，会被骗的").action is Action.ALLOW
    assert detector.check("要不要私下转账").action is Action.REVIEW


# ---------------------------------------------------------------- the window


def test_digits_split_over_messages_are_caught_in_the_last_one(detector: Detector) -> None:
    window = SenderWindow()
    first = detector.check("记一下 138", now_s=0, window=window)
    second = detector.check("1234", now_s=4, window=window)
    third = detector.check("5678 好的", now_s=9, window=window)
    assert first.action is second.action is Action.ALLOW
    assert third.categories == (Category.PHONE,)
    assert third.text == "**** 好的"  # only this message's part can still be masked


def test_a_cue_and_an_id_in_two_messages(detector: Detector) -> None:
    window = SenderWindow()
    detector.check("我qq", now_s=0, window=window)
    detector.check("2873", now_s=2, window=window)
    assert cats(detector.check("645123", now_s=4, window=window)) == {"messenger_id"}


def test_the_window_forgets_old_messages(detector: Detector) -> None:
    window = SenderWindow(max_age_s=60)
    detector.check("138", now_s=0, window=window)
    detector.check("1234", now_s=10, window=window)
    assert detector.check("5678", now_s=100, window=window).action is Action.ALLOW


def test_the_window_is_bounded(detector: Detector) -> None:
    window = SenderWindow(max_messages=2)
    for i, part in enumerate(["1", "3", "8", "1", "2", "3", "4", "5", "6", "7"]):
        detector.check(part, now_s=i, window=window)
    assert len(window) == 2
    assert detector.check("8", now_s=11, window=window).action is Action.ALLOW
    assert SenderWindow(max_messages=0).recent(0) == ""


def test_senders_do_not_share_a_window(detector: Detector) -> None:
    chat = Conversation()
    detector.check("138", now_s=0, window=chat.window("customer"))
    detector.check("1234", now_s=1, window=chat.window("companion"))
    assert detector.check("5678", now_s=2, window=chat.window("customer")).action is (Action.ALLOW)


def test_a_conversation_keeps_a_bounded_number_of_senders() -> None:
    chat = Conversation(max_senders=2)
    a = chat.window("a")
    chat.window("b")
    chat.window("a")  # a is heard again: b is now the least recent
    chat.window("c")
    assert len(chat) == 2 and chat.window("a") is a


def test_benign_numbers_in_a_row_stay_fine(detector: Detector) -> None:
    window = SenderWindow()
    for i, text in enumerate(["几点上线", "8点", "45元", "60分钟", "3:1", "520", "1314", "好"]):
        assert detector.check(text, now_s=i, window=window).action is Action.ALLOW, text


def test_a_place_named_for_the_two_to_meet_is_a_meeting(detector: Detector) -> None:
    """Was a known miss (a time and a place, no cue word): a known meeting place followed by
    见/等你 now counts."""
    assert "offline_meeting" in cats(detector.check("明天下午三点，星巴克见"))


def test_a_mobile_number_told_in_pieces_is_caught(detector: Detector) -> None:
    for text in [
        "我的手机号前三位138 中间是8888 后面是0520",
        "打我电话 一三九 两个零 一二三四五六",
    ]:
        assert "phone" in cats(detector.check(text)), text
    assert "phone" not in cats(detector.check("手机玩了3个小时，考了98分，排第12名"))


@pytest.mark.parametrize(
    ("label", "messages"),
    [
        ("phone", ["号码尾号是五六七八，前面是一三九一二三四"]),  # told out of order
        ("phone", ["1哈3哈8哈1哈2哈3哈4哈5哈6哈7哈8"]),  # words between the digits
        ("phone", ["一百三十八 一千二百三十四 五千六百七十八"]),  # read as amounts
        ("messenger_id", ["微 信：happy⭐day⭐99"]),  # emoji inside the ID
        ("offline_meeting", ["见", "面吧"]),  # a word split across messages (digits only are)
    ],
)
@pytest.mark.xfail(strict=True, reason="known miss: see the module docstring of moderation.detect")
def test_known_misses(detector: Detector, label: str, messages: list[str]) -> None:
    window = SenderWindow()
    found: set[str] = set()
    for i, text in enumerate(messages):
        found |= cats(detector.check(text, now_s=i, window=window))
    assert label in found


def _tiny_model(category: str) -> Model:
    """A model that finds ``category`` in any text holding 月亮 (and nothing else)."""
    return Model(
        bias=-5.0,
        threshold=0.8,
        weights={"月亮": 40.0},
        categories=("contact_request", category),
        category_bias=(0.0, 1.0),
        category_weights={},
    )


def test_what_only_the_model_finds_is_reviewed_as_written() -> None:
    detector = Detector(KEY, model=_tiny_model("messenger_id"))
    d = detector.check("今晚的月亮真的好圆好亮啊")
    assert d.action is Action.REVIEW and d.categories == (Category.MESSENGER_ID,)
    assert d.text == "今晚的月亮真的好圆好亮啊" and d.queue  # nothing to mask: an admin looks
    assert detector.check("今晚的星星真的好多好亮啊").action is Action.ALLOW
    assert detector.check("月亮 moon is bright tonight").action is Action.ALLOW  # mostly English
    assert detector.check("月亮好").action is Action.ALLOW  # too short to judge
    assert Detector(KEY, model=None).check("今晚的月亮真的好圆好亮啊").action is Action.ALLOW


def test_a_policy_that_allows_a_category_allows_the_models_hit_too() -> None:
    policy = Policy.parse("sexual=allow")
    detector = Detector(KEY, policy, model=_tiny_model("sexual"))
    assert detector.check("今晚的月亮真的好圆好亮啊").action is Action.ALLOW


def test_the_shipped_model_leaves_everyday_chat_alone(detector: Detector) -> None:
    for text in [
        "今天工作好累啊，想早点睡觉",
        "你喜欢吃火锅还是烤肉",
        "这首歌的歌词写得真好",
        "夜聊电台",
    ]:
        assert detector.check(text).action is Action.ALLOW, text
