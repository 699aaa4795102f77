"""Generated positive lines: numbers, messenger ids, e-mail addresses, URLs and split messages."""

from __future__ import annotations

from tests.moderation.corpus.evasions import (
    DIGIT_EVASIONS,
    chinese,
    circled,
    dashed,
    fullwidth,
    grouped,
    parenthesized,
    plain,
    spaced,
    zero_width,
)
from tests.moderation.corpus.values import (
    SPLIT,
    WECHAT_IDS,
    bank_card,
    id_card,
    id_card_with_x,
    landline,
    mobile,
    qq_number,
    rng,
)

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
