"""Corpus lines for the conduct categories (``sexual``, ``minor``, ``upsell``) and the benign
companion chat that looks like them; ``generate.py`` writes them with the rest.

The sexual lines and the benign look-alikes are the single-message lines of the development set
(``tests/moderation/fresh/dev.jsonl``) and a few more; minors and upselling are made from
templates under a fixed seed.  None of them comes from a fresh evaluation set.
"""

from __future__ import annotations

import random

SPLIT = "␞"
rng = random.Random(18)

SEXUAL_LINES = """全套什么价
快餐多少钱
过夜多少钱
包夜多少
一次多少米
一晚上多少钱
快餐还是包夜
有特殊服务吗
去做个大保健
出台多少
包养吗
一炮多少
快餐一次
做一次给你五百
开房去
一起去宾馆
陪我睡一晚
今晚一起睡
房间号发你了，上来
酒店等你
脱给我看
把衣服脱掉
脱光了视频
让我看看你身材，脱了
发张裸照
私房照有吗
福利视频发一个
露个胸
裸聊一次多少
摄像头往下移一点，我想看
给我看你的内裤
拍下面给我
做爱吗
想干你
打炮
约个炮
啪一下
来一炮
你好骚
下面湿了吗
我想射
口交吗
自慰给我看
床上功夫怎么样
跟我上床
多大罩杯
戴不戴套
想亲你全身
yuepao
约p吗
zuoai
pa pa pa
可以ml吗
yp
来pao吗
luoliao吗
想看luo体
s m
约泡
约🔫
上门服务
援交
做援交吗
兼职学生妹
做点大人的事
色色
黄色视频
开车吗（成人那种）
做愛
約炮嗎
脫光給我看
"""
BENIGN_LINES = """开黑开黑
组个队吧
上分上分
房间号 5521
开房间了，快进
我开个房，你们进来
这局全套神装
这把我打野
通宵打游戏
刷副本一次多少金币
开车去网吧
我侄子上初二了
大年初二去外婆家
我高一的时候很叛逆
我儿子16岁了
我28岁了还单身
未成年人保护法
十六岁那年的夏天
我教高二的英语
酒店退房时间是几点
订了两晚的酒店
房间号记不住了
宾馆旁边有家面馆
上门取件
维修师傅上门了
快餐吃腻了
全套的火锅底料
一次多少克
我们公司刚用了微信支付
新买的手机很好用
微信语音打不通
企鹅馆好多人
这件绿色的外套💚
唯心主义和唯物主义
维新变法
他很有威信
为新同事办欢迎会
求求你了，陪我打一把
脱口秀好好笑
衣服脱水了
今天好热，脱了外套
晚上睡不着
一起睡个午觉吧哈哈（各自）
我家狗狗好色哦，见母狗就追
颜色好看
这个电影有点黄
你的头像是哪个明星
这套餐具真好看
我拍了张照片发朋友圈
充电宝没电了
会员卡续费了
送你一个小礼物
炮弹
泡泡浴好舒服
200ml的牛奶
sm级别的卡
打飞机游戏小时候玩过
我爸是老司机，开车二十年
他是处女座
一夜没睡
胸口有点闷
健身练胸
下面那个链接打不开
我下面给你吃（面条）
"""
SEXUAL_MORE = """今晚过夜多少钱
全套怎么收
快餐一次多少
包夜1000行不行
约炮不
来不来打炮
想和你上床
视频脱衣服给我看
把内裤脱了
发点大尺度的照片
有没有福利视频
一起去开房
我在宾馆，你来宾馆找我
一夜情约吗
yp吗美女
ml吗
约pao
你好骚啊
有偿陪睡
做援交多少钱
"""

_AGES = ["13", "14", "15", "16", "17", "十三", "十四", "十五", "十六", "十七"]
_GRADES = ["初一", "初二", "初三", "高一", "高二", "高三"]
_AGE_TEMPLATES = ["我{}岁", "我才{}岁", "我今年{}", "人家才{}", "我只有{}岁啦", "我现在{}岁"]
_GRADE_TEMPLATES = ["我{}", "我才{}", "我在读{}", "还在上{}呢", "我现在{}", "刚上{}"]
_MINOR_FIXED = """我未成年
我还没成年
我是初中生
我是高中生
我还是个中学生
我不满18岁
未成年可以下单吗
我小学六年级
我没满18
"""

_PUSHES = [
    "买个套餐吧",
    "包月更划算哦",
    "升级VIP嘛",
    "开个会员好不好",
    "再充点吧",
    "充值一下嘛",
    "余额不够了，去充值吧",
    "再续一个小时",
    "续费嘛哥哥",
    "加钟吧",
    "加时好不好",
    "延长一下嘛",
    "送我个礼物",
    "刷个火箭呗",
    "再送一个嘛",
    "再聊一个小时嘛",
    "买十小时的包更便宜",
    "充500送50",
]


def sexual() -> list[tuple[str, str, str]]:
    lines = [t for t in (SEXUAL_LINES + SEXUAL_MORE).splitlines() if t]
    return [("sexual", "handwritten", t) for t in lines]


def minors() -> list[tuple[str, str, str]]:
    out = []
    for template in _AGE_TEMPLATES:
        for age in rng.sample(_AGES, 4):
            out.append(("minor", "age", template.format(age)))
    for template in _GRADE_TEMPLATES:
        for grade in rng.sample(_GRADES, 3):
            out.append(("minor", "grade", template.format(grade)))
    out += [("minor", "handwritten", t) for t in _MINOR_FIXED.splitlines() if t]
    return out


def upsells() -> list[tuple[str, str, str]]:
    """A companion's three pushes in a row (the corpus scores a line as a companion's)."""
    return [("upsell", "split", SPLIT.join(rng.sample(_PUSHES, 3))) for _ in range(40)]


def benign() -> list[tuple[str, str, str]]:
    return [("benign", "conduct", t) for t in BENIGN_LINES.splitlines() if t]
