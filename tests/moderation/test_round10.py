"""Round 10 (tests/moderation/fresh/HISTORY.md): fresh9's misses and false positives fixed as
classes.  Each class has wordings written for the round, not fresh9's lines (stopped), and
benign look-alikes written for it (parents and teachers on school, adults recalling school,
game rooms, transfers to family, a city asked, a face on video) that must pass; and
conversations in which a minor's cue meets a meeting, a sexual request or grooming words
several messages later, from either side."""

from __future__ import annotations

import pytest

from moderation.detect import Action, Category, Decision, Detector, Priority
from tests.moderation.fresh import talk
from tests.moderation.rounds import assert_allowed, assert_stopped

# Other wordings of the classes (not fresh9's lines), with the category each must raise.
WIDENED = [
    # minors: a grade with how it feels, homework owed, a teacher's exam ahead, a parent who
    # must not find out, a parent's rule by any name, the class teacher today, school just out
    ("高二真累 天天刷题到半夜", Category.MINOR),
    ("初一太难了 数学听不懂", Category.MINOR),
    ("暑假作业还剩好多没做", Category.MINOR),
    ("高中作业也太多了吧", Category.MINOR),
    ("班主任说下周月考 我完蛋了", Category.MINOR),
    ("我爸要是发现我小测不及格 我就死定了", Category.MINOR),
    ("爸爸不准我玩手机 我偷偷的", Category.MINOR),
    ("班主任今天又找我了 烦死", Category.MINOR),
    ("随堂测验又没及格", Category.MINOR),
    ("刚放学了 好饿", Category.MINOR),
    ("I'm only 16 btw", Category.MINOR),
    # contact requests said indirectly
    ("咱俩换个地方聊吧 互加下", Category.CONTACT_REQUEST),
    ("给我留个能联系到你的办法", Category.CONTACT_REQUEST),
    ("给个可以语音的方式吧 这边太贵", Category.CONTACT_REQUEST),
    ("给我留个其他联络方式", Category.CONTACT_REQUEST),
    ("想你了怎么找你啊 这里又要花钱", Category.CONTACT_REQUEST),
    ("你号码念一下 我记着", Category.CONTACT_REQUEST),
    ("让我存一下你的号码", Category.CONTACT_REQUEST),
    ("telegram 上找我", Category.CONTACT_REQUEST),
    ("let's chat somewhere else", Category.CONTACT_REQUEST),
    ("can we talk off this app", Category.CONTACT_REQUEST),
    ("🟢 lucy_2001", Category.MESSENGER_ID),
    # meetings: a place finer than a city, how near, taking the other out
    ("你住朝阳哪个小区", Category.OFFLINE_MEETING),
    ("我就住你们那边 开车过去十分钟", Category.OFFLINE_MEETING),
    ("周末我带你出去兜风", Category.OFFLINE_MEETING),
    # payment by a gift card's code
    ("iTunes卡也行 卡密发我就行", Category.OFF_PLATFORM_PAYMENT),
    ("买张购物卡把卡密私发我", Category.OFF_PLATFORM_PAYMENT),
    # showing on camera offered
    ("镜头里可以脱 你先刷礼物", Category.SEXUAL),
    ("直播也能露 看你诚意", Category.SEXUAL),
    # classes fresh9 showed the rules missing (the model had caught them): another account, a
    # chat off the meter, a QR code, 聯絡 in traditional script, boudoir photos, a full service,
    # moans, a private account, a birthday still ahead, a grade after 我也是学生
    ("你还有别的号没", Category.CONTACT_REQUEST),
    ("私聊免费的有吗", Category.CONTACT_REQUEST),
    ("给张二维码 我扫你", Category.CONTACT_REQUEST),
    ("留個聯絡方式吧", Category.CONTACT_REQUEST),
    ("私房照有吗", Category.SEXUAL),
    ("全套服务多少", Category.SEXUAL),
    ("想听你叫给我听", Category.SEXUAL),
    ("钱打到我个人账户上", Category.OFF_PLATFORM_PAYMENT),
    ("过几天就满十五了", Category.MINOR),
    ("我还是学生 高一 早自习要迟到了", Category.MINOR),
]

LOOK_ALIKES = [
    "我女儿高二真累 天天刷题到半夜",
    "当年高三好苦啊 现在想想还好",
    "我侄子的暑假作业还剩好多没做",
    "我是初中老师 我们学校月考排名下周出",
    "班主任说的对 家长要多陪孩子",
    "放学了去接孩子",
    "我小时候我妈不让我玩手机",
    "很多年前我读初二",
    "十年前我高二 那会儿还没有智能手机",
    "I'm only 25 lol",
    "互相加油吧",
    "给个能练口语的方法",
    "你住哪个城市",
    "我家离公司开车过去十分钟",
    "京东卡送我妈了",
    "视频能露脸吗 不露也行",
    "王者组队吗 我开好房间了",
    "狼人杀开个房间 差两个人",
    "斗地主开个房间 三缺一",
    "我先去吃个饭 一会聊",
    "微信转账给我爸了",
    "支付宝转账到房东账户",
    "你有小号吗 游戏里带带我",
    "这个皮肤全套多少钻石",
    "想听你叫我名字",
    "私房菜馆推荐一下",
    "他是学生 高二 晚自习下课",
]


@pytest.mark.parametrize(("text", "category"), WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str, category: Category) -> None:
    assert_stopped(rules, text, category)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)


def _blocked_high(decisions: list[Decision]) -> bool:
    return any(d.action is Action.BLOCK and d.priority is Priority.HIGH for d in decisions)


# A minor's cue, then (later, from either side, indirectly) a meeting, a sexual request or
# grooming words: blocked at high priority.
COMBOS = [
    [
        ("customer", "今天月考又考砸了"),
        ("companion", "别难过"),
        ("customer", "嗯"),
        ("companion", "周末哥哥带你出去散散心"),
    ],
    [
        ("customer", "我才高一啦"),
        ("companion", "没事 年龄不是问题"),
    ],
    [
        ("customer", "作业写完了 初二好累"),
        ("companion", "你们学校门口有家奶茶店吧"),
    ],
    [
        ("customer", "班主任又收我手机"),
        ("companion", "那你放学以后出来 我请你喝奶茶"),
    ],
    [
        ("companion", "你几年级了"),
        ("customer", "初三"),
        ("companion", "穿校服拍一张给我看看"),
    ],
    [
        ("customer", "im only 14"),
        ("companion", "send me a pic"),
        ("companion", "我们之间的秘密哦"),
    ],
    [
        ("customer", "寒假作业还有一半没写"),
        ("companion", "写完了记得把聊天记录删掉 别让你妈看到"),
    ],
]

# The same words with no minor's cue, or a parent's or an adult's: not escalated.
NOT_COMBOS = [
    [("customer", "我女儿初三了 学习好累"), ("companion", "辛苦了 周末可以带她出去散散心")],
    [("customer", "记得把聊天记录删了 我老婆查手机"), ("companion", "好的")],
    [("customer", "十年前我初二的时候最喜欢周杰伦"), ("companion", "年龄不是问题 喜欢就好")],
    [("customer", "明天开家长会 我得去给儿子开"), ("companion", "辛苦啦 别告诉你儿子我们聊天哦")],
    # the minor's own school words are not grooming
    [("customer", "初二好累"), ("customer", "今天穿校服拍毕业照 丑死了")],
]


@pytest.mark.parametrize("messages", COMBOS)
def test_a_minor_then_a_request_or_grooming_is_blocked_high(
    rules: Detector, messages: list[tuple[str, str]]
) -> None:
    assert _blocked_high(talk(rules, messages)), messages


@pytest.mark.parametrize("messages", NOT_COMBOS)
def test_the_same_words_without_a_minor_do_not_escalate(
    rules: Detector, messages: list[tuple[str, str]]
) -> None:
    assert not _blocked_high(talk(rules, messages)), messages


# Companion pushes in other words: guilt, flattery, rankings, discounts, "just one more".
PUSHES = [
    [
        ("companion", "今晚帮我冲个榜好不好"),
        ("customer", "不太想"),
        ("companion", "就差一点就第一了 你最好了 再刷一个就好"),
    ],
    [
        ("companion", "开个包周吧 第二小时半价"),
        ("customer", "再说吧"),
        ("companion", "优惠就今天 明天就没了"),
    ],
    [
        ("companion", "哥哥你最大方了 送个嘉年华嘛"),
        ("customer", "没钱了"),
        ("companion", "你不是说最喜欢我吗 这点钱都舍不得"),
    ],
    [
        ("companion", "续个钟嘛"),
        ("customer", "不了"),
        ("companion", "最后一次 再续一个钟就好"),
    ],
    [
        ("companion", "要不要升级个会员 有优惠券"),
        ("customer", "多少钱"),
        ("companion", "一个月398"),
        ("customer", "好贵"),
        ("companion", "别人都开了 你舍得让我掉出榜吗"),
    ],
]


@pytest.mark.parametrize("messages", PUSHES)
def test_varied_pushes_are_upsell(rules: Detector, messages: list[tuple[str, str]]) -> None:
    assert Category.UPSELL in talk(rules, messages)[-1].categories, messages


def test_a_package_answered_or_mentioned_once_is_no_upsell(rules: Detector) -> None:
    answered = talk(
        rules,
        [
            ("customer", "你们有什么套餐吗"),
            ("companion", "有包月和包周 包月398"),
            ("customer", "好的我想想"),
        ],
    )
    assert not any(d.categories for d in answered)
    once = talk(rules, [("companion", "这个月有个会员活动 你可以看看")])
    assert not once[-1].categories
    # one 要不要 before a package's words is one push, not one per word
    single = talk(rules, [("companion", "哥哥要不要升级到包月套餐")])
    assert not single[-1].categories


def test_the_answer_window_covers_one_answer_not_every_later_push(rules: Detector) -> None:
    decisions = talk(
        rules,
        [
            ("companion", "办个包月吧"),
            ("customer", "包月多少"),
            ("companion", "六百九"),
            ("customer", "有点多"),
            ("companion", "这点钱都不愿意为我花吗 开一个嘛"),
        ],
    )
    assert not decisions[2].categories
    assert Category.UPSELL in decisions[-1].categories
