"""Round 8 (tests/moderation/fresh/HISTORY.md): fresh7's misses fixed as classes, each with other
wordings of the class written for the round (stopped) and benign look-alikes written for it
(adults on their children's school, teachers, games, travel, family, shops) that must pass."""

from __future__ import annotations

import pytest

from moderation.detect import Category, Detector
from tests.moderation.fresh import talk
from tests.moderation.rounds import assert_allowed, assert_stopped

# Other wordings of the classes (not fresh7's lines), with the category each must raise.
WIDENED = [
    # another channel asked for without naming it, a reason to leave, a hint of where
    ("有没有其他联系途径找到你", Category.CONTACT_REQUEST),
    ("给我一个能联系到你的方式", Category.CONTACT_REQUEST),
    ("换个软件吧 这里太贵", Category.CONTACT_REQUEST),
    ("你平时用什么聊天软件", Category.CONTACT_REQUEST),
    ("去q上聊吧", Category.CONTACT_REQUEST),
    ("v我 懂的", Category.CONTACT_REQUEST),
    ("联系方式写在我签名里了", Category.CONTACT_REQUEST),
    ("在这里不方便说 你看我主页", Category.CONTACT_REQUEST),
    ("这里聊天有人盯着 换个地方", Category.CONTACT_REQUEST),
    ("wo men jia ge hao you", Category.CONTACT_REQUEST),
    ("抖音上我的名字叫 小熊饼干", Category.CONTACT_REQUEST),
    ("以后别在app上约我 直接来", Category.CONTACT_REQUEST),
    # school life said of oneself, now
    ("下周月考 好烦", Category.MINOR),
    ("月考又考砸了", Category.MINOR),
    ("我被请家长了", Category.MINOR),
    ("用压岁钱买了个皮肤", Category.MINOR),
    ("现在高二 压力好大", Category.MINOR),
    ("高一新生 求带", Category.MINOR),
    ("初三党来报道", Category.MINOR),
    # a proposal to be physically together
    ("我下周去杭州 顺便去找你", Category.OFFLINE_MEETING),
    ("周末过来找你 带你吃好吃的", Category.OFFLINE_MEETING),
    ("来成都找我玩 我请你吃火锅", Category.OFFLINE_MEETING),
    ("买了两张演唱会的票 你跟我去吧", Category.OFFLINE_MEETING),
    ("高铁票我出 你来就行", Category.OFFLINE_MEETING),
    ("我去火车站接你", Category.OFFLINE_MEETING),
    ("咱俩去海边吧", Category.OFFLINE_MEETING),
    ("约在星巴克门口 你几点到", Category.OFFLINE_MEETING),
    ("房间我订好了 你来了直接上楼", Category.OFFLINE_MEETING),
    # nakedness, undressing for gifts, private videos, paying for bed, crude questions
    ("发个没穿的照片", Category.SEXUAL),
    ("脱一件 给你刷火箭", Category.SEXUAL),
    ("私密视频 要看吗", Category.SEXUAL),
    ("睡你一次多少钱", Category.SEXUAL),
    ("yp能做吗", Category.SEXUAL),
    ("你那里硬了吗", Category.SEXUAL),
    ("给我看看nai", Category.SEXUAL),
    # other payment apps, paying directly from now on
    ("云闪付转我", Category.OFF_PLATFORM_PAYMENT),
    ("别走平台 直接给我", Category.OFF_PLATFORM_PAYMENT),
]

LOOK_ALIKES = [
    "你平时用什么软件修图",
    "换个平台买吧 这家太贵了",
    "我换个号登录试试",
    "我发的动态老被和谐 好烦",
    "这里不能说脏话吗",
    "请问其他支付方式怎么找到",
    "有没有别的办法联系客服",
    "小飞机模型有吗 给儿子买",
    "你用什么app听歌",
    "游戏里我叫小熊",
    "抖音上那个博主叫什么",
    "加我信心",
    "换个app看剧吧",
    "我把号码写在快递单上了",
    "孩子把作业写纸上拍给我看",
    "这里不方便说 等会再聊",
    "我儿子明天期中考试 考不好他爸会骂他",
    "孩子月考又考砸了 愁死我",
    "我是高中老师 明天月考要监考",
    "我们学校下周月考 我要出卷子",
    "女儿中考倒计时100天 全家紧张",
    "我当年差点考不上高中",
    "我是班主任 收手机是学校规定",
    "儿子班主任叫家长 我请了假去",
    "小时候上课玩手机被抓过",
    "过年给侄子包了压岁钱 他拿压岁钱买了游戏机",
    "我妈不让我吃辣 说对胃不好",
    "今年带高一新生 好累",
    "高一新生的家长群好热闹",
    "我弟现在初二下学期",
    "大学期末考完就放假了",
    "你多大的房子",
    "初二下午回娘家",
    "我孩子初二上学期成绩还行",
    "顺路去找你们老板签个字",
    "周末来游戏里找我玩",
    "下班去找你推荐的那家店",
    "明天去找你的同事拿文件",
    "买了两张票 带我妈去看",
    "机票我出 我妈说她想去三亚",
    "我去机场接你爸",
    "我们去迪士尼团建",
    "我带你去逛副本",
    "房间我开好了 你们进来 密码123",
    "房间我开好了 排位走起",
    "我家猫啥都没穿 哈哈",
    "天热 脱件衣服 给宝宝刷牙",
    "私密相册怎么设置",
    "这个视频一部88太贵了 会员吧",
    "睡一觉就好了",
    "kj是什么意思",
    "衣服湿没湿",
    "我奶奶做的饭",
    "以后每周我直接转你的文章链接",
    "别在这接单了 店铺要关门",
    "过年抢红包抢了8块8 发红包的是我舅",
    "群里发红包的是谁",
]


@pytest.mark.parametrize(("text", "category"), WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str, category: Category) -> None:
    assert_stopped(rules, text, category)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)


def test_an_age_told_and_asked_back_makes_the_reply_an_age(rules: Detector) -> None:
    decisions = talk(
        rules, [("customer", "你多大"), ("companion", "25呀 你呢"), ("customer", "15 高一")]
    )
    assert Category.MINOR in decisions[-1].categories
    adults = talk(rules, [("customer", "25岁 你呢"), ("companion", "我28")])
    assert not adults[-1].categories


def test_a_plea_after_a_push_presses_it_again(rules: Detector) -> None:
    pushed = talk(
        rules,
        [("companion", "再续一个钟嘛"), ("customer", "不了"), ("companion", "求你啦 就这一次")],
    )
    assert Category.UPSELL in pushed[-1].categories
    # a plea with no push before it in the session is no upsell
    alone = talk(rules, [("companion", "求你啦 就这一次"), ("customer", "好吧")])
    assert not any(Category.UPSELL in d.categories for d in alone)
    # nor is a goodbye after a single push
    bye = talk(
        rules, [("companion", "再续一个钟嘛"), ("customer", "不了"), ("companion", "好吧 下次见")]
    )
    assert Category.UPSELL not in bye[-1].categories
