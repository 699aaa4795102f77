"""Writes the labelled moderation corpus (``*.tsv`` next to this file).

    .venv/bin/python -m tests.moderation.corpus.generate

Every line is ``label<TAB>kind<TAB>text``: ``label`` is a detection category or ``benign``;
``kind`` is the evasion (``plain``, ``fullwidth``, ``zero_width``, ``chinese``, ``circled``,
``keycap``, ``spaced``, ``dotted``, ``lookalike``, ``split``, ``mixed_script``, …) or, for
benign lines, what they look like (``price``, ``duration``, ``date``, ``time``, ``order_id``,
``score``, ``rank``, ``chat``, ``emotional``, ``near_miss`` …).  A line of several messages
from one sender, sent a few seconds apart, separates them with ``␞``.

Values are made here, valid by construction (mobile prefixes, GB 11643 check characters, Luhn
digits) and random under a fixed seed, so the files are the same on every run.  Hand-written
lines are in this file too; the generator is the one source: edit it, re-run it, commit both.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from tests.moderation.corpus import conduct

HERE = Path(__file__).resolve().parent
SPLIT = "␞"
rng = random.Random(11643)


def token_hex(nbytes: int) -> str:
    return f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


# ---------------------------------------------------------------- values


def mobile() -> str:
    prefix = rng.choice(
        [
            "130",
            "131",
            "135",
            "137",
            "138",
            "139",
            "150",
            "152",
            "158",
            "166",
            "170",
            "176",
            "177",
            "180",
            "182",
            "186",
            "188",
            "189",
            "191",
            "199",
        ]
    )
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def landline() -> str:
    area, local_len = rng.choice(
        [("010", 8), ("021", 8), ("020", 8), ("0755", 8), ("0571", 8), ("0731", 7), ("028", 8)]
    )
    return (
        area
        + rng.choice("2345678")
        + "".join(rng.choice("0123456789") for _ in range(local_len - 1))
    )


ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def id_card() -> str:
    region = rng.choice(["110105", "310104", "440305", "330106", "510107", "420111", "320102"])
    year = rng.randint(1960, 2005)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    body = f"{region}{year}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


def id_card_with_x() -> str:
    while True:
        n = id_card()
        if n.endswith("X"):
            return n


def luhn_complete(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return body + str((10 - total % 10) % 10)


def bank_card() -> str:
    prefix, length = rng.choice(
        [
            ("622202", 19),
            ("621700", 19),
            ("622848", 19),
            ("621483", 16),
            ("625807", 16),
            ("436742", 16),
            ("518710", 16),
            ("622588", 16),
            ("621226", 19),
            ("603367", 19),
        ]
    )
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


def qq_number() -> str:
    return (
        str(rng.randint(10_000_000, 3_999_999_999))
        if rng.random() < 0.8
        else str(rng.randint(100_000, 9_999_999))
    )


WECHAT_IDS = [
    "xiaomei520",
    "abc_1234",
    "lily-0812",
    "sunshine_99",
    "xm19950412",
    "tt_love_u",
    "wxid_k2j3h4g5f6",
    "zhang_san88",
    "cherry1314",
    "mumu_0520",
    "kiki2333",
    "ayu_1998",
    "momo-77",
    "xiaoxiao_yu",
    "nana0909",
    "coco_lee66",
    "huahua521",
    "yy_9527",
    "doudou1010",
    "qingqing_02",
]

# ---------------------------------------------------------------- digit evasions

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CHINESE = "零一二三四五六七八九"
CHINESE_ALT = {"0": "〇零洞", "1": "一幺", "2": "二两", "7": "七拐", "9": "九勾"}
DAXIE = "零壹贰叁肆伍陆柒捌玖"
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
DINGBAT = "⓿❶❷❸❹❺❻❼❽❾"
MATH = "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"
MATH_DS = "𝟘𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠𝟡"
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
EMOJI_SEP = ["❤", "🌹", "✨", "⭐", "💕", "🐱", "🍓", "～", "♥"]


def each(d: str, f: Callable[[str], str]) -> str:
    return "".join(f(c) if c.isdigit() else c for c in d)


def plain(d: str) -> str:
    return d


def grouped(d: str) -> str:
    if len(d) == 11:
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    return " ".join(d[i : i + 4] for i in range(0, len(d), 4))


def dashed(d: str) -> str:
    if len(d) == 11:
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    return "-".join(d[i : i + 4] for i in range(0, len(d), 4))


def dotted(d: str) -> str:
    return ".".join(d)


def spaced(d: str) -> str:
    return " ".join(d)


def mixed_separators(d: str) -> str:
    seps = [" ", "-", ".", "·", "/", "_", "~", "、", "，", "  "]
    return "".join(
        c + (rng.choice(seps) if i % rng.randint(1, 3) == 0 else "") for i, c in enumerate(d)
    ).rstrip("".join(seps))


def fullwidth(d: str) -> str:
    return d.translate(FULLWIDTH)


def fullwidth_spaced(d: str) -> str:
    return "\u3000".join(d.translate(FULLWIDTH))


def zero_width(d: str) -> str:
    return "".join(c + (rng.choice(ZERO_WIDTH) if rng.random() < 0.6 else "") for c in d)


def chinese(d: str) -> str:
    return each(d, lambda c: rng.choice(CHINESE_ALT.get(c, CHINESE[int(c)])))


def daxie(d: str) -> str:
    return each(d, lambda c: DAXIE[int(c)])


def chinese_mixed(d: str) -> str:
    return each(d, lambda c: c if rng.random() < 0.5 else CHINESE[int(c)])


def circled(d: str) -> str:
    return each(d, lambda c: CIRCLED[int(c)])


def dingbat(d: str) -> str:
    return each(d, lambda c: DINGBAT[int(c)])


def keycap(d: str) -> str:
    return each(d, lambda c: c + "\ufe0f\u20e3")


def math_bold(d: str) -> str:
    return each(d, lambda c: rng.choice([MATH, MATH_DS])[int(c)])


def superscript(d: str) -> str:
    return each(d, lambda c: SUPERSCRIPT[int(c)])


def emoji_separated(d: str) -> str:
    return "".join(c + (rng.choice(EMOJI_SEP) if i < len(d) - 1 else "") for i, c in enumerate(d))


def lookalike(d: str) -> str:
    out = list(d)
    swaps = [i for i, c in enumerate(d) if c in "01" and 0 < i < len(d) - 1]
    for i in rng.sample(swaps, min(len(swaps), 2)):
        out[i] = rng.choice(["o", "O"]) if d[i] == "0" else rng.choice(["l", "I"])
    return "".join(out)


def parenthesized(d: str) -> str:
    return f"({d[:3]}){d[3:7]}-{d[7:]}"


def mixed_everything(d: str) -> str:
    fs = [fullwidth, chinese, circled, plain, daxie]
    return "".join(rng.choice(fs)(c) + rng.choice(["", " ", "", "\u200b"]) for c in d)


DIGIT_EVASIONS: list[tuple[str, Callable[[str], str]]] = [
    ("plain", plain),
    ("grouped", grouped),
    ("dashed", dashed),
    ("dotted", dotted),
    ("spaced", spaced),
    ("separators", mixed_separators),
    ("fullwidth", fullwidth),
    ("fullwidth", fullwidth_spaced),
    ("zero_width", zero_width),
    ("chinese", chinese),
    ("chinese", daxie),
    ("chinese", chinese_mixed),
    ("circled", circled),
    ("circled", dingbat),
    ("keycap", keycap),
    ("math", math_bold),
    ("superscript", superscript),
    ("emoji", emoji_separated),
    ("lookalike", lookalike),
    ("mixed", mixed_everything),
]

# ---------------------------------------------------------------- positives

PHONE_TEMPLATES = [
    "我的电话{n}",
    "手机号：{n}",
    "{n} 打我电话",
    "号码{n}有事联系",
    "电话是{n}哦",
    "有事打{n}",
    "我手机{n}，晚上打",
    "{n}",
    "call me {n}",
    "这是我号码 {n} 别告诉别人",
    "记一下 {n}",
    "下播后打{n}",
    "{n}微信同号",
    "私人号{n}",
    "打这个 {n} 找我",
]


def phones() -> list[tuple[str, str, str]]:
    lines = []
    for kind, f in DIGIT_EVASIONS:
        for _ in range(3):
            lines.append(("phone", kind, rng.choice(PHONE_TEMPLATES).format(n=f(mobile()))))
    for f in (plain, dashed, grouped, chinese):
        for _ in range(2):
            n = landline()
            shown = f"{n[:3]}-{n[3:]}" if n[1] in "12" else f"{n[:4]}-{n[4:]}"
            if f is not plain:
                shown = f(n)
            lines.append(
                (
                    "phone",
                    "landline",
                    rng.choice(["座机{n}", "家里电话 {n}", "办公室 {n} 找我"]).format(n=shown),
                )
            )
    for text in [
        "+86 " + grouped(mobile()),
        "+86-" + mobile(),
        "0086 " + mobile(),
        "(+86)" + mobile(),
        parenthesized(mobile()) + " 打我",
        "ＴＥＬ：" + fullwidth(mobile()),
    ]:
        lines.append(("phone", "country_code", text))
    return lines


ID_TEMPLATES = [
    "身份证号{n}",
    "我身份证 {n} 你帮我查下",
    "{n}",
    "实名用的这个 {n}",
    "证件号：{n}",
    "帮我注册一下 身份证{n}",
    "这是我的身份证 {n} 别外传",
]


def id_cards() -> list[tuple[str, str, str]]:
    lines = []
    evasions = [e for e in DIGIT_EVASIONS if e[0] not in ("superscript",)]
    for kind, f in evasions:
        for _ in range(2):
            lines.append(("id_card", kind, rng.choice(ID_TEMPLATES).format(n=f(id_card()))))
    for f, kind in [
        (plain, "plain"),
        (grouped, "grouped"),
        (fullwidth, "fullwidth"),
        (spaced, "spaced"),
        (zero_width, "zero_width"),
    ]:
        n = id_card_with_x()
        shown = f(n[:-1]) + rng.choice(["X", "x", "Ｘ"])
        lines.append(("id_card", kind + "_x", rng.choice(ID_TEMPLATES).format(n=shown)))
    n = id_card()
    lines.append(("id_card", "grouped", f"{n[:6]} {n[6:14]} {n[14:]}"))
    return lines


BANK_TEMPLATES = [
    "卡号{n}",
    "转到这张卡 {n}",
    "{n} 工商银行",
    "我的银行卡 {n} 建行",
    "{n}",
    "银行卡号：{n} 户名张三",
    "打这个卡{n}就行",
    "招行 {n}",
]


def bank_cards() -> list[tuple[str, str, str]]:
    lines = []
    for kind, f in DIGIT_EVASIONS:
        for _ in range(2):
            lines.append(("bank_card", kind, rng.choice(BANK_TEMPLATES).format(n=f(bank_card()))))
    return lines


WECHAT_CUES = [
    "微信",
    "微信号",
    "vx",
    "VX",
    "V信",
    "薇信",
    "威信",
    "wx",
    "WeChat",
    "绿泡泡",
    "ｖｘ",
    "𝐯𝐱",
    "ⓥⓧ",
    "微\u200b信",
    "微 信",
    "微❤信",
    "vх",
    "ＶＸ",
    "Ｖ信",
    "v x",
    "卫信",
    "weixin",
]
QQ_CUES = ["扣扣", "QQ", "ＱＱ", "qq号", "企鹅", "q号", "扣❤扣", "秋秋", "Q Q", "企鹅号", "𝐐𝐐"]
OTHER_CUES = ["telegram", "电报", "飞机号", "陌陌", "soul", "tg号", "whatsapp"]
ID_TEMPLATES_MSG = [
    "{cue}：{id}",
    "加我{cue} {id}",
    "{cue}号是{id}",
    "我{cue} {id} 加我",
    "{id} 是我{cue}",
    "{cue}搜{id}",
    "下播了加{cue}：{id}",
    "{cue}{id}",
    "我的{cue}是 {id} 记得加",
    "{cue} → {id}",
    "{cue}找我 {id}",
]


def messenger_ids() -> list[tuple[str, str, str]]:
    lines = []
    for cue in WECHAT_CUES + OTHER_CUES:
        for _ in range(2):
            t = rng.choice(ID_TEMPLATES_MSG)
            kind = (
                "mixed_script"
                if any(ord(c) > 0x2000 and not ("\u4e00" <= c <= "\u9fff") for c in cue)
                else "cue"
            )
            lines.append(("messenger_id", kind, t.format(cue=cue, id=rng.choice(WECHAT_IDS))))
    for cue in QQ_CUES:
        for kind, f in rng.sample(DIGIT_EVASIONS, 4):
            t = rng.choice(ID_TEMPLATES_MSG)
            lines.append(("messenger_id", "qq_" + kind, t.format(cue=cue, id=f(qq_number()))))
    for text in [
        "加我 " + qq_number(),
        "搜一下 " + rng.choice(WECHAT_IDS),
        "wxid_ab12cd34ef 加我",
        "加我 " + rng.choice(WECHAT_IDS) + " 聊",
        "扣扣" + chinese(qq_number()),
        "我的企鹅 " + fullwidth(qq_number()),
        "qq：" + spaced(qq_number()),
    ]:
        lines.append(("messenger_id", "other", text))
    return lines


EMAIL_LINES = [
    "邮箱 {u}@qq.com",
    "{u}@163.com 发我邮件",
    "我的email: {u}@gmail.com",
    "{u}＠１６３．ｃｏｍ",
    "{u}(at)qq.com",
    "{u} at gmail dot com",
    "{u}艾特163点com",
    "{u}@126。com",
    "发到 {u} @ sina . com",
    "{u}@foxmail.com 有事发邮件",
    "{u}[at]outlook.com",
    "邮件 {u}\u200b@\u200bqq.com",
    "mail me {u}@hotmail.com",
    "{u}@icloud.com",
    "{u}艾特qq点com",
]
URL_LINES = [
    "看我主页 https://weibo.com/u/{n}",
    "www.{u}.com",
    "去这个网站 {u}.cn",
    "t.me/{u}",
    "http://{u}.top/pay",
    "点这个链接 https://{u}.xyz/a?b=1",
    "ｗｗｗ．{u}．ｃｏｍ",
    "{u}点com",
    "加群 https://qm.qq.com/{n}",
    "https://wa.me/86{m}",
    "我的店 {u}.taobao.com",
    "下载 app.{u}.vip",
    "{u}.net 上找我",
    "https://{u}.club",
    "WWW.{U}.CN",
]


def emails_and_urls() -> list[tuple[str, str, str]]:
    lines = []
    users = [
        "lily2024",
        "xiaomei",
        "zhangsan88",
        "coco_lee",
        "kiki0520",
        "abc123",
        "sunny.day",
        "mumu-77",
    ]
    for t in EMAIL_LINES:
        for _ in range(2):
            u = rng.choice(users)
            kind = (
                "email_evasion"
                if any(x in t for x in ("at", "艾特", "点", "。", "＠", "\u200b", " @ "))
                else "email"
            )
            lines.append(("email_url", kind, t.format(u=u)))
    for t in URL_LINES:
        for _ in range(2):
            u = rng.choice(users).replace(".", "")
            kind = "url_evasion" if any(x in t for x in ("点", "ｗ", "WWW")) else "url"
            lines.append(
                (
                    "email_url",
                    kind,
                    t.format(u=u, U=u.upper(), n=rng.randint(10**6, 10**9), m=mobile()),
                )
            )
    return lines


CONTACT_LINES = """加我微信吧
加个vx聊
你微信多少
留个电话呗
发我你的qq
你有微信吗
加我好友
我们加个微信吧
加v详聊
+v
+vx 私聊
扣扣多少
告诉我你的手机号
交换一下联系方式
有没有qq
去微信上聊吧
来vx聊
下了平台加我
能给个联系方式吗
私下联系我
你手机号是多少
你电话多少
加我Q
加q吧
留个vx
威信多少
薇信有吗
你v信是啥
给个扣扣
企鹅号多少
发个电话号码给我
平台外聊
微信同号
电报有吗
飞机号给我
有陌陌吗
用不用微信
add me on wechat
text me
what's your number
把你微信推给我
方便留个联系方式吗
加个好友呗
你的绿泡泡呢
想加你微信
能加你vx吗
可以加你qq吗
求个联系方式
要个微信
求v
vx发我
微 信 多 少
加 我 微 信
ｖｘ多少
加我Ｖ信
加我𝐯𝐱
加我ⓥⓧ
你的ＱＱ多少
微\u200b信\u200b多少
加\u200b我\u200b微\u200b信
V❤信多少
加我薇❤信
留个手机号给我
我们换个地方聊，加我吧
私聊我
私信我
你的联系方式给我
dm me
给我你的wx
发一下你的vx
你qq号多少呀
有没有微信啊，这里聊不方便
加我扣扣
交换个微信吧
告诉我你的微信号
我想要你的电话
你有没有微信呀
加我！
下次直接找我，加我吧
你的企鹅呢
在平台外联系
""".splitlines()

OFFLINE_LINES = """我们见面吧
什么时候见个面
线下见
出来玩吗
约吗
约不约
今晚开房
去酒店等你
你住哪
发个定位给我
地址发我
来我家吧
要不要见面
我请你吃饭
面基吗
奔现吧
周末出来坐坐
我们同城诶
约个饭
约你出来
咱们约会吧
见一面好不好
私下见
可以线下陪吗
上门吗
包夜多少钱
过夜吗
哪个酒店
我在如家开好房了
发我你家地址
共享个位置
给我你的位置
约个时间见面
我去你那找你
我们可以出来见个面吗
到时候见面聊
陪我去看电影吧
明天一起吃饭吧
晚上来我这
去你家坐坐
约炮吗
一夜情吗
同城约
线下可以吗
想见你本人
能见真人吗
给个地址我过去
我们在哪见
meet up tonight?
send me your address
见 面 吧
线\u200b下\u200b见
约\u200b吗
开\u200b房
我们见❤面吧
想和你见面
要不要出来喝一杯
下班后出来吃个饭
你家在哪个小区
我到你楼下了，出来吧
周六线下约
你在哪个酒店
酒店房号发你
来宾馆找我
想跟你约会
约会吗
我开车来接你
我们去唱歌吧
明晚出来吗
一起去看电影吗
你方便的话我们见一见
我想见见你
约一下
""".splitlines()

PAYMENT_LINES = """私下转账
我们私下交易吧
直接转给我
不走平台便宜点
加我微信付款
发个红包
给我发红包
红包给我
转我200
微信转账给我
支付宝转我
扫我的收款码
我的二维码发你
付款码发我
绕过平台
平台抽成太多了我们私下结
打钱给我
直接打款给我
我支付宝是这个
卡号发你你转过来
v我50
私下给我钱
平台外付款
线下付现金
不通过平台
转账吧
你直接转账给我
paypal me
私聊发红包
微信红包
包个红包给你
加v转账
直接微信给我钱
用支付宝付给我
你把钱打我卡上
汇款到我账户
私\u200b下\u200b转\u200b账
私 下 转 账
发个🧧给我
红包发我
直接给我转
下次不走平台了
私下付
私下打钱
不用平台了，直接付我
给我转钱
转给我就行
我的收款码
扫码付给我
私下交易更便宜
绕开平台吧
发 个 红 包
v我５０
支付宝账号给你
银行卡号发你
给我你的支付宝
打到我卡上
转我支付宝
转到我的微信
平台太贵了，私下结吧
加我付钱
我给你便宜点，私下转
先付我一半
直接付现金
红包转我
给我发个大红包
先转账再聊
转账给我我给你多聊会
私下红包
""".splitlines()


def worded(label: str, lines: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for text in lines:
        if not text.strip():
            continue
        kind = (
            "zero_width"
            if "\u200b" in text
            else "spaced"
            if " " in text.strip() and any("\u4e00" <= c <= "\u9fff" for c in text)
            else "mixed_script"
            if any(
                0xFF00 <= ord(c) <= 0xFFEF or ord(c) > 0x1D000 or 0x2460 <= ord(c) <= 0x24FF
                for c in text
            )
            else "emoji"
            if any(c in "❤🧧" for c in text)
            else "plain"
        )
        out.append((label, kind, text))
    return out


# EVERYDAY (benign) and HANDWRITTEN (label, text) were written in three rounds *after* the
# detector had been tuned on the lines above, and each round was scored before anything was
# changed: positives caught 59/73, 62/72 and 43/55 (numbers with a wrong check digit left out),
# benign lines flagged 2/180, 2/137 and 2/86.  Numbers, e-mail addresses and URLs held up
# (54 of 56 caught); the word lists did not (110 of 144: offline meetings and payment outside
# were phrased in ways the lexicon had not seen).  Where a miss pointed at a general rule the
# lexicon was widened, and the lines joined the corpus; the corpus figures are therefore not a
# held-out estimate, these are.  Three misses are kept on purpose (see test_detect.py).
EVERYDAY = """你来我这个直播间看看吧
今天出来逛街了，好累
结果出来了吗
成绩出来了，考得还行
太阳出来了
我给你发个表情包
给我讲个故事吧
你给我唱首歌好不好
我把照片发给朋友了
妈妈给我钱买了新衣服
这个月要付房租了
支付我这边显示成功了
付款成功，已经充值了
刚刚付了会员费
我加班到十点
我想加个钟
加油！你可以的
再加十分钟吧
加我一个，我也想玩
他加了我好友但是不说话
今天在家做饭
晚上吃什么好呢
我想去云南旅游
你去过北京吗
周末去爬山了，风景很好
我和闺蜜一起看电影了
我们公司组织团建去唱歌
同学聚会好尴尬
你在哪个城市呀
我在深圳，你呢
上海今天好热
下周要出差去杭州
我住在学校宿舍
搬家好累
我家楼下新开了一家奶茶店
我们小区停电了
你那边几点了
我这边下雨了
你那里冷不冷
我这儿挺好的
我在地铁上
刚到家
到公司了
路上堵车
快递到了
外卖还没到
红包雨活动好好玩
群里抢红包抢到了5块
平台送的红包用完了
新人红包怎么领
转发给你一篇文章
我转发了你的动态
他转学了
转眼就到年底了
打了一下午游戏
打车回家
打工好累
打电话给客服了
我手机没电了
手机屏幕摔碎了
换了新手机
你用的什么手机
号码牌拿到了
电话面试通过了
我最喜欢的歌手是陈奕迅
你喜欢的数字是几
我生日是3月15号
今天是2024年最后一天
还有100天高考
我减肥减了10斤
血压120/80
心率 72
一天走了12000步
我存了5万块
今年目标存10万
工资涨了500
这个月电费230块
房贷每个月4500
车险续费3800
账单出来了
信用卡还款日是每月5号
我的银行卡丢了，去补办
银行排队好久
支付宝集五福
微信运动步数第一
我妈不会用微信
我爸刚学会发语音
你会用QQ邮箱吗
QQ空间好多年没上了
小时候的QQ号早忘了
朋友圈屏蔽了家人
我在抖音看到一个好笑的视频
小红书上的攻略很好用
我的网名叫小鱼
你的名字好好听
我叫你小王吧
我们认识多久了
第一次用这个平台
好久不见
见到你很开心
下次见
明天见
回头见
再见啦
拜拜
约定好了，明天继续聊
大约一个小时后
预约了下周的体检
预约成功
签约了新公司
合约机便宜
公约要遵守
我很想见我的偶像
见家长好紧张
见网友？我不敢
面试官问我为什么离职
面对困难不要怕
当面说比较好，可是我不敢跟我老板说
我想和你多聊一会儿
和你聊天很开心
跟你说个秘密
你陪我聊聊天吧
陪我说说话
陪伴是最长情的告白
晚上一个人有点害怕
开心就好
开了个会
开房车去旅行是我的梦想
开门红
房间好乱，要打扫了
酒店式公寓
去年住过一次五星级酒店
我在酒店工作，经常夜班
出差住的宾馆很差
线上会议开了三个小时
在线等，挺急的
下线了吗
我先下线了
上线了
我的位置在最后一排
位置不好，看不清舞台
地址栏输入网址就行
IP地址是什么
什么地址？哦，快递地址我写错了
定位不准
地图上找不到
我今年28岁，单身
身高170
体重55公斤
鞋码38
衣服L码
房间号1208
12楼
3号线转2号线
地铁10号线
公交车52路
我考了驾照，C1
车号 粤A·12345
密码忘了
验证码收不到
账号被封了
会员到期了
充值了200元，送了30元
这个月充了3次
我刚买了 iPhone 15
华为mate60
小米14 pro
steam上新游戏打折
switch 游戏卡带
ps5 太贵了
我在打原神，等级55
王者荣耀五排吗
我们组队打游戏吧
开黑吗
我玩的是辅助
这局输了 5-12
逆风翻盘
MVP 是我
排位赛连胜10局
积分1850
谢谢老板的礼物
刷个小礼物支持一下
今天的打赏好多
平台的活动好给力
这个月冲榜了
续费了一个月会员
我给你点了个赞
关注你了
给你发了个表情
我把歌单分享给你
我把链接放在评论区了
你可以在平台首页找到我
在平台上预约我就行
下次直接在这里找我
点我头像就能看到主页
在这里聊就好啦
不用加别的，这里就挺好
我们在这聊挺好的
你的声音让我很放松
我今天跟同事吵架了
老板让我周末加班
我打算辞职去读研
研究生复试在3月
我室友养了两只猫
我们宿舍4个人
我家有3口人
小时候住在农村
我爷爷今年90岁了
奶奶做的饭最好吃
我想回家过年
春运票好难抢
抢到了回家的票，G1234次
火车 K528 晚点了
飞机延误2小时
我在机场等登机
到站了，下车了
坐了12个小时的火车
今天好冷，零下5度
夏天到了，35度
空调开26度
天气预报说明天有雨
我在学做蛋糕
烤箱180度烤20分钟
鸡蛋3个，面粉100克
这道菜放两勺盐
今天跑了10公里
健身房办了年卡，2888
瑜伽课一节150
我的体脂率20%
手机流量用完了
wifi密码多少来着
电脑坏了，送修了
键盘是87键的
显示器27寸
我喜欢看科幻小说
三体看了三遍
最近在看《漫长的季节》
这部剧有40集
电影《你好，李焕英》好感人
今天是我们认识100天
我喜欢你说话的方式
你好会安慰人
我心情好多了
跟你说了这么多，好意思
晚安，好梦
明天也要开心哦
你也早点休息
我要去睡觉了
我们下次再聊吧
我先去忙了，回头聊
一会儿再来找你
等我吃完饭再来
我去洗个澡，马上回来
我先下了，拜拜
今天聊了好久
好开心认识你
谢谢你的耐心
我想找个人说说话
你会一直在吗
能不能多陪我一会
再聊五分钟好不好
我续了一小时
我再充点钱
余额不够了，我去充值
充值页面打不开
支付失败了，再试一次
退款到账了吗
客服说3到5个工作日
我的钱包还有50元
花了我300多
打了个八折
满200减30
双十一买了好多东西
快递显示已签收
我想买个新键盘，500左右
一个月工资5000，房租就要2000
我微信钱包没钱了
我的qq等级好高
微信读书挺好用
我在微信上看到一个新闻
qq群里有人发广告
抖音刷多了眼睛疼
你喜欢玩什么游戏
我在玩金铲铲，钻石2
我是星耀一，还差3颗星
今天上了大师
打了一天排位，掉了50分
我的游戏名字叫夜雨
这局我拿了MVP，12/2/15
吃鸡第一名，8杀
我今年大三
我1999年的
我比你大两岁
我是95后
我们差了5岁
你是00后吗
我属兔的
我是天蝎座
我的血型是O型
我O型血
我身份证快过期了，要去换
银行卡被冻结了，好烦
我去银行办了张卡
信用卡额度提到2万了
我在网上买了一个手机壳
这个手机号是我妈的名字注册的
我换了手机号，之前的停用了
她约了我好几次我都没去
他说想见我，我拒绝了
我们是网友，从来没见过面
你觉得网恋靠谱吗
我不会随便见网友的
女孩子出门要注意安全
有人骗我转账，还好我没上当
千万不要私下转账，会被骗的
平台说不要加陌生人微信
我朋友被骗了3000块
今天上班被客户骂了，回家路上一直在哭
你说人为什么要这么累地活着
我上周去医院检查，医生说没什么大问题，就是压力太大
我考了三次驾照科目二才过
我们公司年会抽奖，我抽到了一台扫地机器人
你听过五月天的《倔强》吗
我最近迷上了做手工，织了一条围巾
我家狗狗今天生日，三岁啦
下个月要搬去北京了，有点舍不得这里
我朋友约我去看演唱会，可是票好贵
我一个人吃了一整个披萨
我今天早上五点就醒了，然后再也睡不着
你觉得我应该跟他道歉吗
他又没回我消息，已经两天了
我爸妈催我结婚，烦死了
前任今天结婚了，我有点难受
我跟闺蜜说好了下个月一起去旅游
同学们约好了毕业十年聚会
我们部门聚餐，喝了好多酒
刚和家里人视频完
我男朋友说周末带我去见他爸妈
你平时几点睡觉呀
你喜欢吃辣吗？我无辣不欢
今天星期几来着
我的快递显示在派送中
刚点了外卖，麻辣烫28块
这个月信用卡账单3456块，头疼
我在拼多多砍了一刀
双十二又要剁手了
我减肥第30天，瘦了8斤
今天走了两万步，脚好酸
我在学日语，N2考了120分
托福考了105，还想再考一次
明年3月考研复试
我今天面试了三家公司
offer 给了 15k，要不要去
我的房东要涨房租，一个月涨300
房子月供6000多，压力好大
我在还花呗，每个月还1200
上次去医院挂号费50
我用的是华为手机，你呢
刚换了5G套餐，一个月59
我家网速只有100M
我在B站上看到一个很好笑的视频
你知道微信有个新功能吗
我微信好友只有50个
qq邮箱收到一封奇怪的邮件，我直接删了
我在抖音上关注了好多猫咪博主
你玩过原神吗？我58级了
王者荣耀新赛季开始了，我又掉到钻石了
昨晚打游戏打到凌晨3点
我们战队拿了第二名
这把我操作失误了，0/5/2
斗地主赢了2000豆
我的偶像下个月开演唱会，我抢到票了，内场680
你今天的声音有点哑，是不是感冒了
谢谢你上次的建议，我真的去试了
和你聊天的时间过得好快
已经聊了45分钟了，我再续半小时
我觉得你说的很有道理
你会不会觉得我很烦
我今天心情特别好，因为加薪了
加班费有200块
我加了一个读书群
他加我好友了，但我没通过
我报了个瑜伽班，一周两次
去年这个时候我还在上海
从深圳到广州坐高铁半小时
北京到上海的机票1200
我在地铁2号线上
我住的小区离地铁站5分钟
我们约定好明天继续聊
大约还要等半小时
预约了周六的理发
我同事请我吃饭了
我妈给我发了个红包，200块
过生日男朋友给我转了520
我给我妈转了1000块生活费
房租转给房东了
微信支付的时候余额不足
你们平台的充值活动挺划算的
我在这里充了好几次了
我不喜欢在网上透露个人信息
我从来不跟网友见面的
网上认识的人还是要小心
我的身份证号码不会告诉任何人的
"""

HANDWRITTEN = [
    ("phone", "我号码一五九零零一二三四五六"),
    ("phone", "打 1 5 9 - 8 8 6 6 - 7 7 5 5"),
    ("phone", "135.79.24.68.01"),
    ("phone", "电话：壹叁玖 零零零零 捌捌捌捌"),
    ("phone", "1⃣3⃣9⃣0⃣0⃣0⃣0⃣1⃣1⃣1⃣1⃣"),
    ("phone", "我的tel 18612345678"),
    ("phone", "１８６－１２３４－５６７８"),
    ("phone", "186 l234 5678"),
    ("phone", "一八六，一二三四，五六七八"),
    ("phone", "找我 159 0000 1234"),
    ("phone", "(021) 6234 5678"),
    ("phone", "号码 15９１２３４５６７８"),
    ("phone", "138________12345678"),
    ("phone", "⑬⑧①②③④⑤⑥⑦⑧"),
    ("messenger_id", "微信：xiaoyu_1999"),
    ("messenger_id", "我微信是 lucky8888"),
    ("messenger_id", "威❤信 happy_day99"),
    ("messenger_id", "VX：Sweet-girl520"),
    ("messenger_id", "+V：honey_77"),
    ("messenger_id", "Q：2873645123"),
    ("messenger_id", "扣 扣 2 8 7 3 6 4 5 1 2"),
    ("messenger_id", "企鹅号 二八七三六四五一二"),
    ("messenger_id", "我的vx号 xm_0921 加的时候备注一下"),
    ("messenger_id", "wx同号 dreamer_88"),
    ("messenger_id", "vx 号 baby-521 快加"),
    ("messenger_id", "lucy_1988是我微信"),
    ("messenger_id", "tg: @lily_bear99"),
    ("messenger_id", "微信搜 yuyu0601"),
    ("contact_request", "咱们加个微信好说话"),
    ("contact_request", "方便的话留个手机号"),
    ("contact_request", "私下加个联系方式"),
    ("contact_request", "vx有吗"),
    ("contact_request", "你玩微信吗"),
    ("contact_request", "我们换个软件聊"),
    ("contact_request", "下线后去微信找我"),
    ("contact_request", "给我个电话"),
    ("contact_request", "你电话号码是多少"),
    ("contact_request", "加一下qq"),
    ("contact_request", "可以私下加你吗"),
    ("contact_request", "能不能留个联系方式"),
    ("contact_request", "这里不方便，加我微信说"),
    ("email_url", "联系我 lucky_star@outlook.com"),
    ("email_url", "邮箱：mumu99＠qq．com"),
    ("email_url", "sunny 艾特 gmail 点 com"),
    ("email_url", "http://bit.ly/abc123"),
    ("email_url", "看看这个 https://m.example.cn/page"),
    ("email_url", "我的网站 lucky-shop.com"),
    ("email_url", "t.me/lily_bear"),
    ("id_card", "身份证：440305199003071236"),
    ("id_card", "我的证件 320102 19880512 0018"),
    ("bank_card", "6217 0000 1234 5678 907 建设银行"),
    ("offline_meeting", "我们私下见一面吧"),
    ("offline_meeting", "晚上能出来吗"),
    ("offline_meeting", "你住哪个区，我过去找你"),
    ("offline_meeting", "哪天约出来吃个饭"),
    ("offline_meeting", "我订好房间了，你过来吧"),
    ("offline_meeting", "见面聊更方便"),
    ("offline_meeting", "我们线下约一下"),
    ("offline_meeting", "你来我家玩吧"),
    ("offline_meeting", "今晚陪我好不好，我去找你"),
    ("offline_meeting", "地址给我，我打车过去"),
    ("offline_meeting", "要不要一起去喝酒"),
    ("offline_meeting", "能约你出来吗"),
    ("offline_meeting", "我们同城的，见个面吧"),
    ("offline_meeting", "发个位置给我"),
    ("off_platform_payment", "不要在平台上付了，直接转我"),
    ("off_platform_payment", "你私下给我转吧，平台扣太多"),
    ("off_platform_payment", "我给你个收款码"),
    ("off_platform_payment", "加我微信，红包发我"),
    ("off_platform_payment", "直接支付宝转账"),
    ("off_platform_payment", "钱直接打我支付宝"),
    ("off_platform_payment", "发我个红包嘛"),
    ("off_platform_payment", "私下付我，给你打折"),
    ("off_platform_payment", "不走平台，直接微信付"),
    ("off_platform_payment", "你扫我微信收款码"),
    ("off_platform_payment", "转账到这张卡"),
    ("off_platform_payment", "给我充个话费吧"),
    ("phone", "1 3 9 / 2 2 2 2 / 3 3 3 3"),
    ("phone", "幺叁玖 贰贰贰贰 叁叁叁叁"),
    ("phone", "我的号: ¹³⁹²²²²³³³³"),
    ("phone", "+８６ １３９２２２２３３３３"),
    ("phone", "13９2222３333 打我"),
    ("phone", "号码139-二二二二-3333"),
    ("phone", "1。3。9。2。2。2。2。3。3。3。3"),
    ("phone", "有事打我 0755-86001234"),
    ("phone", "电话 010 6552 8888"),
    ("phone", "139 2222 3333 (微信同号)"),
    ("phone", "私人手机：186 0000 5555"),
    ("phone", "打我手机 一三九 二二二二 三三三三"),
    ("messenger_id", "vx: A_lice_2024"),
    ("messenger_id", "我的wx是 qingfeng_77"),
    ("messenger_id", "扣扣号: 3 9 8 8 7 7 6 6"),
    ("messenger_id", "企鹅 398877661"),
    ("messenger_id", "QQ：三九八八七七六六"),
    ("messenger_id", "加我v：star_sea_88"),
    ("messenger_id", "dy号 xiaoxin_1234"),
    ("messenger_id", "我的微信号：Tracy-0707"),
    ("messenger_id", "微信 ID：yumi_2023"),
    ("messenger_id", "ｖ：ｍｏｏｎ＿９９"),
    ("messenger_id", "薇: rose_1314"),
    ("messenger_id", "飞机: @night_owl88"),
    ("contact_request", "咱加个好友吧，方便联系"),
    ("contact_request", "你方便给我个联系方式吗"),
    ("contact_request", "有别的联系方式吗"),
    ("contact_request", "加下微信呗"),
    ("contact_request", "你要不要加我vx"),
    ("contact_request", "我们互加个qq吧"),
    ("contact_request", "下了平台怎么找你"),
    ("contact_request", "把你手机号给我"),
    ("contact_request", "你手机多少"),
    ("contact_request", "能要个微信吗"),
    ("contact_request", "这里聊天要钱，我们去qq聊"),
    ("contact_request", "你电话发我一下"),
    ("email_url", "邮箱 abc.def@163.com"),
    ("email_url", "https://www.xiaohongshu.com/user/profile/123"),
    ("email_url", "我的博客 blog.lily.me"),
    ("email_url", "lily(at)163(dot)com"),
    ("email_url", "kiki_88 @ qq . com"),
    ("email_url", "网址：ｈｔｔｐｓ：／／ａｂｃ．ｃｏｍ"),
    ("id_card", "身份证 440305199003071236"),
    ("id_card", "我身份证号码是４４０３０５１９９００３０７１２３６"),
    ("id_card", "身份证号 4403 0519 9003 0712 36"),
    ("bank_card", "农行卡 6228480402564890018"),
    ("bank_card", "卡号：6222 0200 0000 0000 000"),
    ("offline_meeting", "我们找个时间见见吧"),
    ("offline_meeting", "你下班后有空吗，请你喝咖啡"),
    ("offline_meeting", "周末去你那边玩，方便见个面吗"),
    ("offline_meeting", "我们线下聊聊吧"),
    ("offline_meeting", "你住哪里，我离你近吗"),
    ("offline_meeting", "要不要来我家坐坐"),
    ("offline_meeting", "晚上去酒店吗"),
    ("offline_meeting", "我在楼下等你"),
    ("offline_meeting", "哪天有空约个饭"),
    ("offline_meeting", "想约你出去玩"),
    ("offline_meeting", "能不能见一面"),
    ("offline_meeting", "我们见个面，我请客"),
    ("offline_meeting", "你把地址给我，我给你送过去"),
    ("offline_meeting", "发个定位"),
    ("off_platform_payment", "下次你直接转给我，不用走平台"),
    ("off_platform_payment", "你私下转我钱，我多陪你一会"),
    ("off_platform_payment", "加我微信，我给你发收款码"),
    ("off_platform_payment", "转给我就行，别在平台付"),
    ("off_platform_payment", "支付宝转账给我吧"),
    ("off_platform_payment", "红包发我就行"),
    ("off_platform_payment", "给我打个钱"),
    ("off_platform_payment", "在平台外交易吧"),
    ("off_platform_payment", "私下交易打五折"),
    ("off_platform_payment", "付款直接转我银行卡"),
    ("off_platform_payment", "你直接给我现金"),
    ("off_platform_payment", "平台扣的太多，你直接微信付我"),
    ("phone", "这是我私人号码 1 5 8 - 0 0 0 0 - 1 1 1 1 有空打给我"),
    ("phone", "号码尾号是五六七八，前面是一三九一二三四"),
    ("phone", "1\u200b5\u200b8\u200b0\u200b0\u200b0\u200b0\u200b1\u200b1\u200b1\u200b1"),
    ("phone", "我的电话是 158。0000。1111"),
    ("phone", "打 ⑮⑧ 0000 1111"),
    ("phone", "幺五八 洞洞洞洞 幺幺幺幺"),
    ("phone", "手机1五8零零零零1一1一"),
    ("phone", "电话 15800001111 备注平台"),
    ("messenger_id", "我的v是 lanlan_2000 加的时候说是平台的"),
    ("messenger_id", "v信号：Xiao_Yu888"),
    ("messenger_id", "加我的vx：q1234567890"),
    ("messenger_id", "微 信：happy⭐day⭐99"),
    ("messenger_id", "ＷＸ：ｊｏｙ＿５２０"),
    ("messenger_id", "扣扣：叁玖捌捌柒柒陆陆"),
    ("messenger_id", "我的企鹅是398877661，来找我"),
    ("messenger_id", "QQ号码 3988 7766 1"),
    ("messenger_id", "飞机号 @sweet_candy"),
    ("messenger_id", "加我威信 meimei_0521"),
    ("contact_request", "这里聊天太贵了，我们去微信上聊吧"),
    ("contact_request", "你把你的微信给我，我加你"),
    ("contact_request", "你平时用qq吗"),
    ("contact_request", "我们互相加个微信好不好"),
    ("contact_request", "方便的话给个vx"),
    ("contact_request", "留个联系方式以后常联系"),
    ("contact_request", "你有抖音吗，我关注你"),
    ("contact_request", "这个平台要收钱的，我们私下聊"),
    ("contact_request", "告诉我你的号码吧"),
    ("contact_request", "我能加你好友吗"),
    ("email_url", "我的邮箱是 cherry0808@sina.cn"),
    ("email_url", "发到我邮箱 cherry0808 at 126 dot com"),
    ("email_url", "来我的小店看看 cherry-shop.top"),
    ("email_url", "点进去 http://t.cn/A6abcdE"),
    ("id_card", "我的身份证号是 320102198805120018，帮我实名"),
    ("bank_card", "你打到这个卡上：6217 0000 1234 5678 907"),
    ("offline_meeting", "我们周末见一面吧，我请你吃饭"),
    ("offline_meeting", "我可以去你的城市找你"),
    ("offline_meeting", "今晚来我酒店吧"),
    ("offline_meeting", "我们约个地方见"),
    ("offline_meeting", "见个面聊聊呗"),
    ("offline_meeting", "你哪天方便，我们线下见"),
    ("offline_meeting", "我开好房间了，房号1208"),
    ("offline_meeting", "你家住哪，我送你回家"),
    ("offline_meeting", "想不想跟我出去玩"),
    ("offline_meeting", "明天下午三点，星巴克见"),
    ("offline_meeting", "我们找个地方喝一杯"),
    ("off_platform_payment", "你直接转账给我，我给你优惠"),
    ("off_platform_payment", "扫码付款，不用在平台上买时长"),
    ("off_platform_payment", "下次别在平台充了，直接给我"),
    ("off_platform_payment", "我把收款码发你，你扫一下"),
    ("off_platform_payment", "平台抽成50%，私下给我一半就行"),
    ("off_platform_payment", "用支付宝付我吧"),
    ("off_platform_payment", "发我红包，我陪你聊一晚上"),
    ("off_platform_payment", "你加我微信转账，比平台便宜"),
    ("off_platform_payment", "给我买个礼物寄过来"),
    ("off_platform_payment", "打点钱给我呗"),
]


def splits() -> list[tuple[str, str, str]]:
    lines = []
    for _ in range(8):
        n = mobile()
        parts = rng.choice(
            [[n[:3], n[3:7], n[7:]], [n[:5], n[5:]], [n[:3], n[3:]], [n[:4], n[4:8], n[8:]]]
        )
        parts = [rng.choice([plain, fullwidth, chinese, circled])(p) for p in parts]
        if rng.random() < 0.5:
            parts[0] = "记一下 " + parts[0]
        lines.append(("phone", "split", SPLIT.join(parts)))
    for _ in range(4):
        n = id_card()
        lines.append(("id_card", "split", SPLIT.join([n[:6], n[6:14], n[14:]])))
    for _ in range(4):
        n = bank_card()
        lines.append(("bank_card", "split", SPLIT.join([n[:8], n[8:]])))
    for cue in ["qq", "扣扣", "企鹅号"]:
        q = qq_number()
        lines.append(("messenger_id", "split", SPLIT.join([f"我{cue}", q[:4], q[4:]])))
    lines.append(("messenger_id", "split", SPLIT.join(["加我微信", "xiaomei520"])))
    lines.append(("messenger_id", "split", SPLIT.join(["vx", "abc_1234"])))
    return lines


# ---------------------------------------------------------------- benign

BENIGN = {
    "price": """这个套餐45元一小时
¥45
￥128.00
充了200块
一分钟1.5元
语音一分钟3元，视频6元
我充了100元送了20
才9.9元
88元的套餐划算吗
一小时的价格是180元
这个月花了1200块
打折后只要68
499元买的耳机
今天奶茶半价，15块一杯
房租3500一个月
工资到手8000多
这件衣服299，有点贵
一共消费了365.5元
余额还剩23.50元
买了个手机4999
""",
    "duration": """聊了60分钟
每次30分钟
两个小时过得好快
我们聊了90分钟了
还剩5分钟
通话时长 45:20
已经聊了1小时20分钟
每天跑步40分钟
等了3个小时
睡了不到5个小时
睡了10个小时
开会开了两个半小时
坐高铁要4小时30分
十分钟后再聊
半小时后回来
""",
    "date": """2024年5月12日
2024-05-12
5月20号是我生日
12/25圣诞快乐
我是1998年出生的
2023.10.01 国庆
我们2021年9月1日认识的
下周三，6月18日
2024/03/15 开学
1995年12月3日生
生日是八月十五
截止日期 2024-06-30
2019-2023年在上海工作
十月一号放假
""",
    "time": """晚上8点
20:30
21:45:00
下午三点半
早上7:30起床
明天10:00上线
23:59 还没睡
凌晨两点了
我一般12点睡
今晚9点半等你上线
14:00-16:00 在开会
早上六点起的
我们19:30开始吧
现在是 2024-05-12 13:45:30
""",
    "score": """比分3:1
考了98分
我这局 12杀 3死 8助攻
吃鸡了 15杀
这次考试680分
篮球赛 98比95 赢了
英语六级 520
雅思7.5
打了12局 赢了8局
KDA 12/3/8
gpa 3.8
昨天球赛 2-1 逆转
得分 1350 排名第 128
驾照科目一考了 96 分
""",
    "rank": """王者荣耀 星耀二
钻石三 50星
我是荣耀王者 1350分
LOL 黄金一 87胜点
排名第1380名
段位黄金三
巅峰赛 1520 分
和平精英 皇冠三
原神 58级
我的战力 23456
qq飞车 段位 车神
等级 lv30
赛季排名 第 4321 名
王者 27星 上分好难
""",
    "units": """身高168 体重50公斤
我今年25岁
我住在3楼
房间号 302
穿37码的鞋
体重从130斤减到110斤
跑了5公里
电量还剩15%
温度 38.5 度，发烧了
速度 120km/h
尾号5678那个卡
我家离公司15公里
邮编 518000
""",
    "long_number": """支付宝交易号 2024051222001412345678901234
快递单号 SF1234567890123
订单号 4012345678901234567
京东订单 2345678901234
淘宝订单：3589012345678901234
运单号 YT1234567890123
学号 20211234567
工号 88230
发票代码 144032100110
航班 CA1234 座位 32A
车牌 粤B12345
验证码不要发给别人
""",
    "chat": """你好呀
今天好开心
哈哈哈哈
晚安
早上好
你今天吃饭了吗
我在听周杰伦的歌
最近在追一部剧
周末打算宅在家里
你喜欢猫还是狗
我养了一只橘猫
今天加班到好晚
你说话好温柔
下雨了，记得带伞
明天还来找你聊天
这首歌好好听
我在玩王者荣耀
你是哪里人呀
我是四川的
你那边天气怎么样
ok
lol
good night
haha you are funny
I love this song
thank you so much
see you tomorrow
好的好的
嗯嗯
谢谢你陪我聊天
你声音真好听
哈哈哈你好可爱
我刚下班
今天吃了火锅
好想去旅游
你喜欢什么颜色
我最近在学吉他
推荐一部电影吧
我也喜欢看动漫
你有什么爱好
我先去洗澡啦
等我五分钟
我回来了
ｏｋ
你好！！
嘿嘿～
真的吗？？
今天好累啊……
我刚看完一本书，叫《活着》
我喜欢周杰伦的《晴天》
刚才网络不好，断了一下
声音有点卡
能听到我说话吗
你那边有点吵
我换个耳机
这个平台挺好用的
我刚充值了
下次我再来找你
你几点下线呀
明天还在吗
你一般几点上线
""",
    "emotional": """最近工作压力好大，晚上总是睡不着
谢谢你愿意听我说这些
我和男朋友分手了，好难过
感觉自己什么都做不好
没有人理解我
我好想哭
今天被领导骂了
我妈妈生病住院了，很担心
一个人在外地工作，好孤单
我是不是很失败
跟你聊完心情好多了
其实我有点焦虑
最近总是失眠，三四点才睡着
我不知道该怎么办
感觉生活没有意义
你说我该不该辞职
我和室友吵架了
考研失败了，好崩溃
我爸妈总是吵架
谢谢你一直陪着我
我觉得好累，想休息一下
有时候真的很想放弃
你说得对，我应该多爱自己
我会好起来的
今天终于鼓起勇气跟他说了
我养的猫去世了，好伤心
每天都在加班，快撑不住了
朋友都结婚了，只有我还单身
我不敢跟家里人说
我害怕一个人过年
我好久没和爸妈见面了
他说我们还是做朋友吧
失恋第三天，还是很难受
感觉自己被全世界抛弃了
我最近在看心理医生
深呼吸，慢慢来
抱抱你，会好起来的
你不是一个人
你已经做得很好了
难过的时候就来找我聊聊
""",
    "near_miss": """我用微信支付充值了100元
微信支付方便
qq音乐会员到期了
出差住酒店，一个人好无聊
好久没和朋友见面了
预约了明天的时间
大约十分钟后到家
过年收了好多红包
我给房东转账了
我们约定好了哦
节约用电
我同事约我周末去爬山
我在纽约读书
新地址离公司很近
我昨天去约会了，结果好尴尬
我和男朋友约会的时候吵架了
用支付宝充值的
平台的客服回复好快
酒店的早餐很好吃
我姐在酒店上班
线上聊天挺好的
我们在平台上聊就好
我没有微信，我只用qq看新闻
小时候玩qq农场
微信群里好热闹
我不加陌生人微信的
你别给别人你的联系方式哦，注意安全
公司地址在市中心
他让我加他微信，我没理
打电话给我妈了
刚给妈妈打了电话
我们打语音吧
我想开个视频聊
二维码过期了
扫码点餐好方便
""",
}

# The platform's own ids, as accounts.tokens.new_id, signaling.calls and metering make them.
ORDER_TEMPLATES = [
    "订单号 {id}",
    "我的订单 {id} 还没到账",
    "{id} 这个单子",
    "充值单号：{id}",
    "会话 {id} 扣费不对",
    "提现单 {id} 什么时候到",
]


def platform_ids() -> list[tuple[str, str, str]]:
    makers: list[Callable[[], str]] = [
        lambda: "call_" + token_hex(16),
        lambda: "T" + token_hex(10),
        lambda: "PAY" + token_hex(6),
        lambda: "u_" + token_hex(12),
        lambda: "s_" + token_hex(12),
        lambda: "w_" + token_hex(10),
        lambda: "po_" + token_hex(8),
        lambda: "g_" + token_hex(10),
        lambda: "SB" + token_hex(8),
    ]
    lines = []
    for make in makers:
        for _ in range(4):
            lines.append(("benign", "order_id", rng.choice(ORDER_TEMPLATES).format(id=make())))
    return lines


def generated_benign() -> list[tuple[str, str, str]]:
    lines = []
    for _ in range(20):
        lines.append(
            (
                "benign",
                "price",
                rng.choice(["{p}元", "¥{p}", "一共{p}块", "花了{p}元", "才{p}"]).format(
                    p=rng.choice([rng.randint(1, 999), round(rng.uniform(1, 500), 2)])
                ),
            )
        )
    for _ in range(15):
        lines.append(
            (
                "benign",
                "duration",
                rng.choice(["{m}分钟", "聊了{m}分钟", "{h}小时{m}分"]).format(
                    m=rng.randint(1, 59), h=rng.randint(1, 5)
                ),
            )
        )
    for _ in range(15):
        y, mo, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
        lines.append(
            (
                "benign",
                "date",
                rng.choice(
                    [
                        "{y}-{mo:02d}-{d:02d}",
                        "{y}年{mo}月{d}日",
                        "{y}/{mo}/{d}",
                        "{y}.{mo:02d}.{d:02d} {hh}:{mm:02d}",
                    ]
                ).format(y=y, mo=mo, d=d, hh=rng.randint(0, 23), mm=rng.randint(0, 59)),
            )
        )
    for _ in range(15):
        lines.append(
            (
                "benign",
                "time",
                rng.choice(
                    [
                        "{hh}:{mm:02d}",
                        "{hh}:{mm:02d}:{ss:02d}",
                        "{hh}点{mm}分",
                        "{hh}:{mm:02d}-{h2}:{mm:02d}",
                    ]
                ).format(
                    hh=rng.randint(0, 23),
                    mm=rng.randint(0, 59),
                    ss=rng.randint(0, 59),
                    h2=rng.randint(0, 23),
                ),
            )
        )
    for _ in range(10):
        lines.append(
            (
                "benign",
                "score",
                rng.choice(["比分{a}:{b}", "{a}比{b}", "考了{s}分", "{a}-{b} 赢了"]).format(
                    a=rng.randint(0, 120), b=rng.randint(0, 120), s=rng.randint(0, 750)
                ),
            )
        )
    return lines


def benign_splits() -> list[tuple[str, str, str]]:
    seqs = [
        ["几点上线", "8点", "好的"],
        ["45元", "60分钟"],
        ["3:1", "2:2", "1:0"],
        ["我今年25", "你呢"],
        ["身高168", "体重50"],
        ["2024-05-12", "13:45"],
        ["第1", "第2", "第3"],
        ["10", "20", "30"],
        ["考了680", "排名1380"],
        ["订单 T" + token_hex(10), "还没到账"],
        ["好", "的", "吧"],
        ["哈哈", "笑死", "😂😂"],
        ["我在", "你在吗"],
        ["wx", "支付", "成功了"],
        ["188", "块"],
        ["99+", "消息太多了"],
        ["520", "1314"],
        ["1", "2", "3", "4"],
        ["晚安", "明天见"],
        ["qq音乐", "好听"],
    ]
    return [("benign", "split", SPLIT.join(s)) for s in seqs]


def main() -> None:
    files: dict[str, list[tuple[str, str, str]]] = {
        "phone.tsv": phones(),
        "id_card.tsv": id_cards(),
        "bank_card.tsv": bank_cards(),
        "messenger_id.tsv": messenger_ids(),
        "email_url.tsv": emails_and_urls(),
        "contact_request.tsv": worded("contact_request", CONTACT_LINES),
        "offline_meeting.tsv": worded("offline_meeting", OFFLINE_LINES),
        "off_platform_payment.tsv": worded("off_platform_payment", PAYMENT_LINES),
        "split.tsv": splits(),
        "sexual.tsv": conduct.sexual(),
        "minor.tsv": conduct.minors(),
        "upsell.tsv": conduct.upsells(),
        "handwritten.tsv": [(label, "handwritten", text) for label, text in HANDWRITTEN],
        "benign.tsv": [
            ("benign", kind, t) for kind, block in BENIGN.items() for t in block.splitlines() if t
        ]
        + [("benign", "everyday", t) for t in EVERYDAY.splitlines() if t]
        + platform_ids()
        + generated_benign()
        + benign_splits()
        + conduct.benign(),
    }
    for name, lines in files.items():
        for _label, _kind, text in lines:
            assert "\t" not in text and "\n" not in text, text
        (HERE / name).write_text(
            "".join(f"{label}\t{kind}\t{text}\n" for label, kind, text in lines), encoding="utf-8"
        )
    print(f"wrote {sum(len(v) for v in files.values())} lines to {HERE}")


if __name__ == "__main__":
    main()
