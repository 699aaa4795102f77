"""Round 12 (tests/moderation/fresh/HISTORY.md): fresh11's misses and false positives fixed as
classes.  Each class has wordings written for the round, not fresh11's lines (stopped), and
look-alikes written for it (adults on their school days and their children's, a number changed
in one's own account, someone else adding the writer, family red envelopes, lottery draws, a
request quoted as words to say, a net friend's meeting talked over) that must pass; a minor's
cue met by grooming words (a cover story, romance asked about, photos for a top-up); the
model kept from flagging what the rules read as talked about."""

from __future__ import annotations

import pytest

from moderation.detect import Action, Category, Decision, Detector, Priority
from moderation.ngram import Model
from tests.moderation.fresh import talk
from tests.moderation.rounds import KEY, assert_allowed, assert_stopped

WIDENED = [
    # minors by school life: a weekly journal, morning reading, the Young Pioneers, a flag guard,
    # no ID card yet or a relative's used to sign up, a grade just begun or ahead, a grade's own
    # lessons, a class "already in" a grade, subject choice, a birthday under 18, a year-group
    # rank for a reward, Taiwan's 国中, a parent's bedtime, a school day tomorrow, English grades
    ("周记还没写完 明天就要交了", Category.MINOR),
    ("早读迟到被记名字了", Category.MINOR),
    ("下午少先队队课 好困", Category.MINOR),
    ("今天又忘带红领巾 被值周生扣分", Category.MINOR),
    ("周一我当升旗手 好紧张", Category.MINOR),
    ("我身份证还没办下来", Category.MINOR),
    ("号是用我姐姐的身份证注册的", Category.MINOR),
    ("初二才开学两周就月考", Category.MINOR),
    ("九月就要上高中了 好期待", Category.MINOR),
    ("我初中刚毕业 暑假好无聊", Category.MINOR),
    ("五年级的英语听力好难", Category.MINOR),
    ("都高二了还被我妈管着", Category.MINOR),
    ("选科纠结死了 物化生还是史政地", Category.MINOR),
    ("上周刚过了15岁生日", Category.MINOR),
    ("老爸说考进年级前20就带我去海边", Category.MINOR),
    ("我们国小的营养午餐超难吃", Category.MINOR),
    ("老妈规定9点半前必须睡", Category.MINOR),
    ("不聊了 明早还得上学", Category.MINOR),
    ("im in 7th grade btw", Category.MINOR),
    ("revising for my GCSEs all weekend", Category.MINOR),
    ("刚中考完了 整个人都空了", Category.MINOR),
    # meetings proposed indirectly: a metro exit or lobby, a time and a door, "meet there",
    # how near with "come out", 见见 asked, the location sent, a table booked, seen at the door
    ("B口见 我穿黑外套", Category.OFFLINE_MEETING),
    ("酒店大堂等我 我马上下来", Category.OFFLINE_MEETING),
    ("周日下午2点 西湖银泰 优衣库门口", Category.OFFLINE_MEETING),
    ("那家店我知道 在那里碰面吧", Category.OFFLINE_MEETING),
    ("地图上离你才两公里 我过来找你", Category.OFFLINE_MEETING),
    ("你都在附近了 现在就出来吧", Category.OFFLINE_MEETING),
    ("这么近 见见吗", Category.OFFLINE_MEETING),
    ("定位已经发给你了", Category.OFFLINE_MEETING),
    ("到小区门口给我打个电话", Category.OFFLINE_MEETING),
    ("烤肉店我定好座了 你直接过来", Category.OFFLINE_MEETING),
    ("我坐最里面那桌 你一进店就看见了", Category.OFFLINE_MEETING),
    ("see you at the hotel entrance tonight", Category.OFFLINE_MEETING),
    # contact, payment and sexual content in words this writer used
    ("咱们私下联系吧 省点钱", Category.CONTACT_REQUEST),
    ("what are your socials? 👀", Category.CONTACT_REQUEST),
    ("let's move to telegram", Category.CONTACT_REQUEST),
    ("老顾客都是点对点找我的", Category.CONTACT_REQUEST),
    ("购物卡能抵陪聊费吗", Category.OFF_PLATFORM_PAYMENT),
    ("钱直接转到我的账上", Category.OFF_PLATFORM_PAYMENT),
    ("有偿陪睡 价格私聊", Category.SEXUAL),
    ("incall only, 2 hours", Category.SEXUAL),
    ("过来直接办事 不废话", Category.SEXUAL),
    ("把吊带往下拉一点", Category.SEXUAL),
]

LOOK_ALIKES = [
    # adults on school, their children's, a teacher's
    "以前上学那会儿最怕写周记",
    "我是语文老师 今晚要批改周记",
    "我儿子都初二了还不会系鞋带",
    "当年选科我选了历史 现在也不后悔",
    "我女儿刚过完12岁生日",
    "护照还没办 出不了国",
    "明天还要上班 先睡了",
    "i'm in 12th grade of my career lol",
    "十年前我们小学升旗还要唱国歌",
    # a number changed in one's own account, someone else adding the writer, family envelopes,
    # lottery draws, a request quoted as words to say, a net friend's meeting talked over
    "换手机号以后怎么换绑账号",
    "我前任突然加我微信 想复合吗这是",
    "同事昨天加我好友了 还挺热情",
    "奶奶在亲戚群发红包 大家抢疯了",
    "大乐透 05 12 19 23 31 + 02 11 又是陪跑",
    "how do you say 'can i get your number' politely?",
    "朋友问我 说'加个好友吧'会不会很突兀",
    "网友约我见面 我有点犹豫",
    # meeting-shaped words that are not a meeting
    "3号线地铁口好多人",
    "这个位置发你看看 风景不错",
    "快递到门口了给我打电话的 我下楼拿",
    "明晚8点 游戏里主城门口",
    "我点对点传输文件给你",
    "他们公司月结 每个月十号发工资",
    "先把衣服拉链往下拉一点透透气",
]


@pytest.mark.parametrize(("text", "category"), WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str, category: Category) -> None:
    assert_stopped(rules, text, category)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)


def _blocked_high(decisions: list[Decision]) -> bool:
    return any(d.action is Action.BLOCK and d.priority is Priority.HIGH for d in decisions)


GROOMING = [
    # a cover story for the parents
    [("customer", "我才初二 家里管得严"), ("companion", "周末就说去同学家学习 出来找我")],
    # romance asked about after a bare age
    [
        ("companion", "你几岁呀"),
        ("customer", "13"),
        ("companion", "那你接过吻吗"),
    ],
    # photos in exchange for a top-up
    [
        ("customer", "零花钱一周才三十"),
        ("customer", "我还没办身份证呢"),
        ("companion", "发几张自拍给我 我帮你充"),
    ],
    # only the two to know, records to delete with words between
    [("customer", "早读起不来 好困"), ("companion", "聊天记录你看完就删 就咱俩知道")],
]


@pytest.mark.parametrize("messages", GROOMING)
def test_grooming_after_a_minors_cue_is_blocked_high(
    rules: Detector, messages: list[tuple[str, str]]
) -> None:
    assert _blocked_high(talk(rules, messages)), messages


def test_the_same_words_between_adults_do_not_escalate(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("customer", "我28了 刚下班"),
            ("companion", "你交过女朋友吗 发几张自拍给我看看"),
        ],
    )
    assert not _blocked_high(decisions)


def _model(word: str, category: str) -> Model:
    """A model that flags any message holding ``word`` as ``category``."""
    return Model(
        bias=-5.0,
        threshold=0.8,
        weights={word: 40.0},
        categories=(category, "sexual"),
        category_bias=(1.0, 0.0),
        category_weights={},
    )


@pytest.mark.parametrize(
    ("word", "category", "text"),
    [
        ("住校", "minor", "住校那会儿晚上熄灯了还打着手电看小说"),
        ("住校", "minor", "你初中是住校吗"),
        ("加个", "contact_request", "你觉得说'加个好友'会不会很尴尬"),
        ("见面", "offline_meeting", "新闻说有人网上认识见面被骗了"),
        ("加钟", "contact_request", "加钟吧哥哥"),
    ],
)
def test_the_model_does_not_flag_what_is_talked_about(word: str, category: str, text: str) -> None:
    assert not Detector(KEY, model=_model(word, category)).check(text).categories


@pytest.mark.parametrize(
    ("word", "category", "text"),
    [
        ("住校", "minor", "我现在住校 晚上偷偷玩"),
        ("加个", "contact_request", "加个好友吧"),
    ],
)
def test_the_model_still_flags_what_is_asked(word: str, category: str, text: str) -> None:
    assert Category(category) in Detector(KEY, model=_model(word, category)).check(text).categories
