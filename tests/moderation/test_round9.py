"""Round 9 (tests/moderation/fresh/HISTORY.md): fresh8's misses and false positives fixed as
classes.  Each class has wordings written for the round, not fresh8's lines (stopped), and
benign look-alikes written for it (teachers and parents on school, adults' pocket money, news
of arrests, game friends and team-ups, book clubs, fashion, transfers to family) that must
pass."""

from __future__ import annotations

import pytest

from moderation.detect import Category, Detector
from tests.moderation.fresh import talk
from tests.moderation.rounds import assert_allowed, assert_stopped

# Other wordings of the classes (not fresh8's lines), with the category each must raise.
WIDENED = [
    ("今晚就卸载了 留个别的渠道给我", Category.CONTACT_REQUEST),
    ("你告诉我个其他方式 我以后还想找你", Category.CONTACT_REQUEST),
    ("我这号快被封了 想找我就加我别的号", Category.CONTACT_REQUEST),
    ("想找我的话只能换个软件了", Category.CONTACT_REQUEST),
    ("换个app 免费打视频不香吗", Category.CONTACT_REQUEST),
    ("你下播之后怎么联系你", Category.CONTACT_REQUEST),
    ("shall we talk on another app", Category.CONTACT_REQUEST),
    ("can we move to whatsapp", Category.CONTACT_REQUEST),
    ("discord上搜 kiwi_cat#0921", Category.MESSENGER_ID),
    ("加为新 号是 lily_0922", Category.MESSENGER_ID),
    ("加我为新 tom1990", Category.MESSENGER_ID),
    ("礼物别刷了 我去微信上转你", Category.OFF_PLATFORM_PAYMENT),
    ("钱我在支付宝上给你 这里抽太多", Category.OFF_PLATFORM_PAYMENT),
    ("以后不用点单了 直接转给我就行", Category.OFF_PLATFORM_PAYMENT),
    ("刚给你转了300 收到说一声", Category.OFF_PLATFORM_PAYMENT),
    ("备注就写饭钱 平台查不到", Category.OFF_PLATFORM_PAYMENT),
    ("这样转平台就不知道了", Category.OFF_PLATFORM_PAYMENT),
    ("你在几号线哪个口出 我去接", Category.OFFLINE_MEETING),
    ("我穿黑色卫衣 你到时候一眼就能认出我", Category.OFFLINE_MEETING),
    ("解放碑步行街 我等你哦", Category.OFFLINE_MEETING),
    ("周六出来浪嘛", Category.OFFLINE_MEETING),
    ("我在地铁口等你", Category.OFFLINE_MEETING),
    ("今晚ooxx一下吗", Category.SEXUAL),
    ("跟你doi一次", Category.SEXUAL),
    ("🍑💦 懂吧", Category.SEXUAL),
    ("镜头对准你胸 别躲", Category.SEXUAL),
    ("发张更暴露的呗", Category.SEXUAL),
    ("浴袍里面穿了没", Category.SEXUAL),
    ("刷个嘉年华我就换衣服给你看", Category.SEXUAL),
    ("打赏满500 给你看点别人看不到的", Category.SEXUAL),
    ("把t恤掀起来", Category.SEXUAL),
    ("要不穿衣服的那种", Category.SEXUAL),
    ("卖淫吗 多少钱", Category.SEXUAL),
    ("今晚还要上晚自习 先不聊了", Category.MINOR),
    ("晚自习刚下课 累死", Category.MINOR),
    ("离中考只剩50天了", Category.MINOR),
    ("初三 期末又没考好", Category.MINOR),
    ("成绩出来我爸肯定揍我", Category.MINOR),
    ("被我妈知道我打赏要挨打", Category.MINOR),
    ("我爸规定十点前必须交手机", Category.MINOR),
    ("班主任把我的手机没收了", Category.MINOR),
    ("零花钱每周才30 都打赏给你了", Category.MINOR),
    ("压岁钱全充这里了", Category.MINOR),
    ("我们学校小学部放假早", Category.MINOR),
    ("yao san ba ling er er wu liu qi ba jiu", Category.PHONE),
    ("one three eight zero zero one two three four five six", Category.PHONE),
    ("一三九 再接 八八六六 再接 幺二三四", Category.PHONE),
    ("lets chat on another app", Category.CONTACT_REQUEST),
    ("我想加你好友", Category.CONTACT_REQUEST),
]

LOOK_ALIKES = [
    "欢迎加我为新朋友",
    "我们团队加为新成员 小王",
    "好是好 就是贵",
    "我今晚要看晚自习 学生太吵",
    "我是高中老师 值晚自习到十点",
    "我上高中的时候天天上早自习",
    "女儿中考还有三个月 全家紧张",
    "初二 回老家拜年",
    "孩子成绩出来 我妈说别打孩子",
    "压岁钱都给孩子存起来了",
    "老婆每月给我零花钱2000",
    "我们学校初中部老师招聘",
    "家长会我去开 孩子他爸出差",
    "下周家长会 我请了假",
    "我妈说十点的电影不错",
    "给个别的地方推荐一下 吃饭的",
    "换个地方吃饭吧 这家太吵",
    "我游戏号被封了 好气",
    "换个软件看视频吧 这个卡",
    "下线以后记得关电脑",
    "I use another app for music",
    "蛋仔派对来组队 就差你了",
    "王者开黑 三缺一 就差你了",
    "游戏里加你好友了 通过一下",
    "原神里加你好友 快同意",
    "新闻说有个卖淫团伙被端了",
    "那个演员因嫖娼被拘留",
    "扫黄打击卖淫嫖娼 人人有责",
    "今天的读书会是线下分享会",
    "周末有个线下沙龙 要不要一起报名",
    "手机对着风景拍",
    "外套里面穿什么好看",
    "我给你转了文章链接",
    "我给我妈转了500",
    "备注写错了 怎么办",
    "平台不知道怎么回事又卡了",
    "别下单了 这家店快关门了",
    "出来玩了一天 好累",
    "我穿着拖鞋出门了",
    "几号线最挤啊 上班好累",
    "红包我已经在群里发了",
    "钱在支付宝里 还没取",
]


@pytest.mark.parametrize(("text", "category"), WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str, category: Category) -> None:
    assert_stopped(rules, text, category)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)


def test_a_grade_opening_the_reply_to_an_age_question_is_an_age(rules: Detector) -> None:
    decisions = talk(
        rules,
        [("customer", "作业好多"), ("companion", "你几年级啦"), ("customer", "高二 下周还要考试")],
    )
    assert Category.MINOR in decisions[-1].categories
    # not asked: a grade opening a message is only a date or a class then
    alone = talk(rules, [("customer", "初二 回老家拜年")])
    assert not alone[-1].categories


def test_a_gift_owed_or_shamed_presses_a_push(rules: Detector) -> None:
    pushed = talk(
        rules,
        [
            ("companion", "要不要加个视频 多看看我"),
            ("customer", "不用"),
            ("companion", "那礼物总得表示一下吧 别人都刷了"),
        ],
    )
    assert Category.UPSELL in pushed[-1].categories
    # a team-up's "only you missing" is no push
    game = talk(rules, [("companion", "开黑房间号 30817 快来 就差你了")])
    assert not game[-1].categories
