"""Round 11 (tests/moderation/fresh/HISTORY.md): fresh10's misses and false positives fixed as
classes.  Each class has wordings written for the round, not fresh10's lines (stopped), and
benign look-alikes written for it (someone else's dating, gifts to family, a game's currency
spent on oneself, hair falling out, a flavour of tea, adults on school) that must pass; a bank
card told in pieces over two messages; a minor's cue met by English grooming words; and
companion pushes worded as a small sum, a boss's scolding, English, or after the customer's
complaint."""

from __future__ import annotations

import pytest

from moderation.detect import Action, Category, Decision, Detector, Priority
from moderation.ngram import Model
from tests.moderation.fresh import talk
from tests.moderation.rounds import KEY, assert_allowed, assert_stopped

WIDENED = [
    # contact: carrying on / calling on an unnamed app, dialect, a reason + a private chat,
    # "those who know, know", the number told another way, the same name on an app, a place
    # asked for by what it allows, a code to scan then leaving, another's second account
    ("要不咱们去别的app接着聊 这边按分钟扣钱", Category.CONTACT_REQUEST),
    ("换到其他平台语音吧 那边便宜", Category.CONTACT_REQUEST),
    ("去外头的软件唠吧", Category.CONTACT_REQUEST),
    ("私聊吧 这儿聊天老觉得有人在看", Category.CONTACT_REQUEST),
    ("签名里有 懂的都懂", Category.CONTACT_REQUEST),
    ("号码发不出去的话 分几条发给我", Category.CONTACT_REQUEST),
    ("手机号用谐音说一遍", Category.CONTACT_REQUEST),
    ("vx也是同名 搜一下就有", Category.CONTACT_REQUEST),
    ("给我个你能看到私信的app", Category.CONTACT_REQUEST),
    ("二维码发你了 扫完以后别在这聊了", Category.CONTACT_REQUEST),
    ("我加你工作号行不行", Category.CONTACT_REQUEST),
    ("把你那里的号码给我", Category.CONTACT_REQUEST),
    # payment in a game's currency or items, the platform's order or meter called off
    ("我给你充500钻石 就当陪玩费了", Category.OFF_PLATFORM_PAYMENT),
    ("帮你充个月卡 你多陪我一会", Category.OFF_PLATFORM_PAYMENT),
    ("金币直接给你充 你陪我打完这局", Category.OFF_PLATFORM_PAYMENT),
    ("以后平台上就不点单了", Category.OFF_PLATFORM_PAYMENT),
    ("你别在平台计费 我另外给", Category.OFF_PLATFORM_PAYMENT),
    ("钱直接转帐到我卡上", Category.OFF_PLATFORM_PAYMENT),
    # sexual: photos only for the asker, adult talk, clothes refused for a shot, a bed warmed,
    # a night in dialect with money no object, what "someone like you" costs, a show behind a
    # closed door, worn things sold, undressing slowly, the peach emoji
    ("来几张私房写真 不能给别人看的那种", Category.SEXUAL),
    ("聊点成人的内容呗", Category.SEXUAL),
    ("讲讲你的第一次吧", Category.SEXUAL),
    ("拍张大腿发我 别穿裙子 光着", Category.SEXUAL),
    ("别穿内衣 直接开视频", Category.SEXUAL),
    ("冬天太冷 缺个暖床的", Category.SEXUAL),
    ("今晚陪叔睡一晚 价钱好说", Category.SEXUAL),
    ("你这种的过夜什么价", Category.SEXUAL),
    ("想看福利就开视频 记得戴上耳机 门关好", Category.SEXUAL),
    ("原味袜子多少钱一双", Category.SEXUAL),
    ("一件一件脱给我看", Category.SEXUAL),
    ("让我摸摸你的🍑", Category.SEXUAL),
    # minors: a boarding pupil's night, a grade's own teacher or training, homework that gates
    # going online, tutoring ahead, the phone taken by a parent, a study tablet, pocket money
    ("在住校 宿管查寝以后我才敢偷偷玩", Category.MINOR),
    ("熄灯以后躲被窝偷偷玩手机", Category.MINOR),
    ("高一的军训太晒了", Category.MINOR),
    ("初二的班主任超级凶", Category.MINOR),
    ("妈妈说写完作业才能玩一小时", Category.MINOR),
    ("放学还要去补习 好烦", Category.MINOR),
    ("老妈又把我手机锁起来了", Category.MINOR),
    ("我用电话手表偷偷登的", Category.MINOR),
    ("我爸每周才给我三十零花钱", Category.MINOR),
    # still stopped beside the round's narrowings: a birth year, a request by proxy, a game's
    # name with no friend list, a transfer to the writer
    ("我是2011年的 现在读初二", Category.MINOR),
    ("我朋友说想加你微信", Category.CONTACT_REQUEST),
    ("王者打完了 加我微信吧", Category.CONTACT_REQUEST),
    ("钱转给我就行 别走平台", Category.OFF_PLATFORM_PAYMENT),
]

LOOK_ALIKES = [
    # someone else's dating, reported; a meeting with someone of one's own life
    "我对象刚认识就说要加我微信 正常吗",
    "同事非要让我加他好友 好烦",
    "相亲的男生说想约我见面 我该答应吗",
    "周末约闺蜜见面 去哪里吃好",
    "想约同学见面叙叙旧",
    # red envelopes to family, a game's currency spent on oneself
    "春节给外甥发红包 一人一百",
    "给爸妈发个红包表心意",
    "我给自己充了点券买皮肤",
    "钻石拿来抽卡了",
    "金币当然是留着买装备",
    # words near the new sexual ones
    "原味奶茶多少钱",
    "最近头发慢慢脱落 好焦虑",
    "我拍了一套私房菜的照片",
    "成人高考报名什么时候",
    "你的第一次旅行去的哪里",
    "今天太热了 不穿外套了",
    "福利院的孩子们很可爱",
    # adults on school
    "我住校那几年最开心",
    "我是高一的班主任",
    "孩子写完作业才能看电视 这是我家规矩",
    "我周末要去给学生补课",
    "老婆每月给我零花钱五百",
    # staying here, a private chat alone, a name in a game
    "就在这聊挺好的",
    "私聊多少钱一小时",
    "游戏里同名的人好多",
    # round 11, from the synthetic lines' benign classes (written anew): scams and the news,
    # dating advice, a coach, a game's friend list, a cry let out, a home service, a transfer to
    # a flatmate, a private message on the platform, a calendar year of school
    "看到新闻说有人加了陌生人微信就被拉去投资",
    "警察提醒 陌生人让你私下转账一定要报警",
    "帮我看看 相亲时主动留电话会不会太急",
    "健身教练要加我微信 说方便发训练计划",
    "原神里加我好友 带你打深渊",
    "英雄联盟里私聊我 我拉你",
    "难过就哭出来吧 我在呢",
    "请了上门保洁 打扫得很干净",
    "我把房租转给我室友了",
    "你在平台给我发的私信我收到了",
    "2010年我读初一 那时候还没有智能手机",
]


@pytest.mark.parametrize(("text", "category"), WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str, category: Category) -> None:
    assert_stopped(rules, text, category)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)


def test_a_bank_card_told_in_pieces_over_two_messages_is_blocked(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("companion", "工行的 卡号开头 6222 0202"),
            ("companion", "接着是 0000 1234 562 收款人李四"),
        ],
    )
    assert decisions[-1].action is Action.BLOCK
    assert Category.BANK_CARD in decisions[-1].categories


def test_numbers_near_a_bank_word_that_are_no_card_pass(rules: Detector) -> None:
    decisions = talk(
        rules,
        [("customer", "招行信用卡额度 20000 账单 3580 最低还款 358 这个月 1203 要还")],
    )
    assert not decisions[-1].categories


def _blocked_high(decisions: list[Decision]) -> bool:
    return any(d.action is Action.BLOCK and d.priority is Priority.HIGH for d in decisions)


def test_english_grooming_after_a_minors_cue_is_blocked_high(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("customer", "i'm only 15 lol"),
            ("companion", "cute. don't tell your mom we talk ok?"),
        ],
    )
    assert _blocked_high(decisions)


def test_english_secret_words_between_adults_do_not_escalate(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("customer", "i'm 28 and my birthday is next week"),
            ("companion", "i'll plan a surprise, our little secret"),
        ],
    )
    assert not _blocked_high(decisions)


PUSHES = [
    # a small sum, a boss's scolding
    [
        ("companion", "送个小心心嘛"),
        ("customer", "等会"),
        ("companion", "就一个小礼物 五块而已 不然今晚要被运营骂了"),
    ],
    # in English
    [
        ("companion", "extend another hour? 🥺"),
        ("customer", "idk"),
        ("companion", "pretty please, just one more"),
    ],
    # the customer's complaint is no question about prices: the next push still counts
    [
        ("companion", "刷个火箭嘛"),
        ("customer", "怎么又要刷"),
        ("companion", "求求你了 就这一次"),
    ],
]


@pytest.mark.parametrize("messages", PUSHES)
def test_varied_pushes_are_upsell(rules: Detector, messages: list[tuple[str, str]]) -> None:
    assert Category.UPSELL in talk(rules, messages)[-1].categories, messages


def test_a_price_question_still_opens_the_answer_window(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("companion", "要不要续个钟"),
            ("customer", "续一个钟多少钱"),
            ("companion", "一个钟88 现在续吧"),
        ],
    )
    assert not decisions[-1].categories


def test_grooming_words_escalate_when_the_model_calls_their_message_a_minors() -> None:
    """The model's own ``minor`` on the other party's message (it has learnt 校服 from minors'
    lines) does not make that message the minor's: its grooming words still escalate."""
    model = Model(
        bias=-5.0,
        threshold=0.8,
        weights={"校服": 40.0},
        categories=("contact_request", "minor"),
        category_bias=(0.0, 1.0),
        category_weights={},
    )
    decisions = talk(
        Detector(KEY, model=model),
        [
            ("customer", "班主任今天又骂我了"),
            ("companion", "那你穿校服拍张照片给我看看嘛"),
        ],
    )
    assert _blocked_high(decisions)
