"""A companion pushing the customer to spend more (category ``upsell``): packages (套餐, 包月,
VIP), top-ups (充值, 再充点), longer sessions (续一小时, 加钟, 加时, 延长) and gifts (刷个火箭,
送我个礼物).  One push is selling; the category is raised only when a companion pushes
``UPSELL_PUSHES`` times within ``UPSELL_WINDOW_S`` of one conversation (``moderation.window``
counts them).  One message may push more than once (``pushes``): each spend word pressed in it
(加钟吧加钟吧, 续3个小时呀…快点下单, 开vip…再刷个嘉年华), and pressure beside a push — urgency
(今天不买明天就涨价), guilt or a threat (不然我今天白干了, 你舍得吗, 表示诚意) — counts as pressing
again.  A single plain push (再续1个钟嘛) stays one.  Round 8: once a companion has pushed in
the session, a plea with no spend word in it (``PLEA``: 最后求你1次, 别考虑啦 我只差你1个)
presses the same push again.  Pure: no I/O.
"""

from __future__ import annotations

import re

from moderation.normalize import pattern_form

UPSELL_PUSHES = 2  # round 7: the second push (it was the third); see HISTORY.md
UPSELL_WINDOW_S = 1800.0  # a session
MAX_PUSHES_KEPT = 16

_PUSH = [
    # packages and memberships
    r"(?:买|升级|升|办|开|选|换|订|上|拍)(?:个|1个|下|1下)?(?:(?:[0-9]+|十|几|两)(?:个)?小时(?:的)?)?(?:高级|更大的|大)?(?:套餐|包月|包周|包年|会员|vip|包)",
    r"套餐(?:吧|嘛|呗|划算|更划算|便宜|优惠)|(?:包月|包年|包周|vip|会员)(?:吧|嘛|呗|更划算|划算|才有|好不好)",
    r"打包(?:买|更)|包(?:更|比较)(?:便宜|划算)|(?:不|真的不)考虑(?:1下)?(?:包月|套餐|会员|续)",
    # top-ups
    r"(?:再|多|去|快|赶紧)?充(?:值|点|个|1下|下|1点|些|一些)(?:吧|嘛|呗|钱|去)?|(?:再|多)充[0-9]*|充[0-9]+(?:送|就|的档)",
    r"余额不(?:够|多)了?|快没(?:余额|钱)了",
    # longer sessions
    r"(?:再|多)?续(?:费|钟|单|1|2|3|个|时|1个|1下|下)|加(?:钟|时)|延(?:长|时)(?:1下|下)?|再(?:聊|陪)(?:1|半|2)?(?:个)?(?:小时|钟头)"
    r"|再加(?:半|1|2)(?:个)?小时",
    # gifts
    r"(?:送|刷)(?:我)?(?:个|1个|点|几个)?(?:小)?(?:礼物|火箭|飞机|嘉年华|跑车|游艇|小心心)|再(?:送|刷)(?:1个|个|点)",
    r"解锁(?:视频|更多|专属)|(?:才有|就有)专属服务",
]

PUSH = re.compile("|".join(f"(?:{pattern_form(p)})" for p in _PUSH))

# Looser: a word of spending (a package, a top-up, more time, a gift, another order) in a
# companion's message that also presses (吧, 嘛, 好不好, 要不要, 更划算, 再 …).  A companion
# answering the customer's own question about prices is not pushing: ``SPEND_ASKED`` in the
# customer's message opens ``ANSWER_WINDOW_S`` in which the companion's spend words do not count.
# Every alternative starts with a plain character (月卡|周卡…, not [月周年季]卡), so ``re`` finds
# where one can start by itself, in C, instead of trying them all at each position.
_SPEND = (
    r"套餐|包(?:月|天|周|年|时|小时|场|个天)|月卡|周卡|年卡|季卡|会员|vip|svip|贵族|特权|充|冲(?:值|点|1下|个|钻|币)"
    r"|余额|钻石|金币|续|加(?:时|钟|单|个钟|1小时|半小时|小时)|延(?:长|时)"
    r"|办(?:个|1个|张|1张)|再(?:聊|陪|来|点|下|约)(?:我|你)?(?:1|半|2|几)?(?:个)?(?:小时|钟头|单|局|次)|1单|几单|多单|下单|点单"
    r"|礼物|打赏|刷(?:个|1个|点|几个)?(?:礼物|火箭|飞机|嘉年华|跑车|游艇|穿云箭|小心心|起来)"
    r"|火箭|嘉年华|小心心|跑车|游艇|穿云箭|解锁|专属"
    r"|升级|upgrade|premium|package|下单|拍(?:下|1下|1单)|包(?:个|1个|半|夜)|[0-9]+节|买(?:个|1个|点|[0-9])"
    r"|再加[0-9]?(?:局|把)|续[0-9]?(?:局|把)|支持(?:1下|下)|刷(?:1个|个|1下|下)?(?:吧|嘛|呗|啊)"
    r"|守护|开通|称号|(?:才|只要|仅需|只需)[0-9]{2,}(?!岁|分"
    r"|点|年|号|级|楼|cm|斤|个人)|限时|[0-9]折|打(?:个|1个)?折"
    r"|打榜|冲榜|榜1|舰长|上舰|业绩|kpi|冲1下|提成|就差(?!你了)[0-9]*(?:个"
    r"|单|块|点)?|差[0-9]+(?:个|单|块)|最后1单"
    r"|送(?:我|人家)(?:个|1个|几个|点|1点)?"
    r"|原价|打包价|再来(?:个|1个)"
    # round 6: more gifts, lesson packs, instalments, a level to reach
    r"|城堡|皇冠|超跑|飞船|摩天轮|热气球|兰博基尼|灯牌|快刷|刷起来|(?:刷|送)(?:个|1个|几个)?(?:大的|贵的)"
    r"|课包|课时包|[0-9]+节课|单次太亏|每节便宜|分期|(?:才|只要|仅需|只需)[0-9]+(?:百|千|万)"
    r"|(?:现在|马上|今天)就?(?:升|开|办|买)(?:吧|嘛|呗)|[0-9]+局套餐|升(?:金牌|银牌|等级|段位)陪"
    r"|点(?:下)?(?:[0-9]|几)?首|再点|买[0-9]+送|[0-9]+送[0-9]+|送1(?:次|个|首)"
)
# round 7: more of the same words (a year's fee, a vote in a PK, gifts counted: 刷10个告白气球)
_SPEND += (
    r"|年费|月费|季费|上票|投票|(?:刷|送)(?:[0-9]+|几|十几)个|再(?:聊|陪)(?:1)?会儿?"
    r"|(?:就|多|再)(?:1|半|2|几)个?(?:小时|钟头)"
)
# round 8: flowers counted (凑个520朵嘛, 送花花), buying now (现在买最划算, 现在送嘛);
# round 9: a video call added at a price (要不要加个视频)
_SPEND += (
    r"|加(?:个|1个)?视频|[0-9]+ ?朵|送(?:我|人家)?(?:个|点|几朵)?花"
    # round 10: a membership opened (开1个嘛), another round (再来 99), a discount (优惠券, 半价,
    # 会员价), a ranking (冲个榜)
    r"|开(?:个|1个)(?:吧|嘛|呗)|再来 ?[0-9]+|优惠券|半价|满减|会员价|折扣|冲(?:个|1下)?榜"
    r"|(?:现在|马上|今天|快)就?(?:送|刷|买|充|续|开|办)"
    # round 11: in English (extend 30 min, one more hour, top up), a price called small (10块而已)
    r"|(?<![a-z])(?:extend|renew|top ?up|one more hour|another hour|upgrade)(?![a-z])"
    r"|[0-9]+ ?(?:块|元)(?:钱)?而已"
)
_PRESS = (
    r"吧|嘛|呗|吗|么|总要|总得|好不好|好吗|要不要|只要|给我"
    r"|送我|帮我|考虑|试试|哦|呀|啦|划算|便宜|优惠|实惠|才能"
    r"|才有|快|赶紧|再|多"
    r"|送|支持|起来|别走|可以吗|行不行|~|!|！|\?|？"
)
# Pressure beside a push: the price about to rise, the companion punished or unpaid without the
# customer's money, the customer shamed for not spending.
_PRESSURE = (
    r"(?:今天|现在)不(?:买|续|充|开|下单|办)[^\n]{0,6}(?:涨价|没了|恢复|原价)|(?:明天|过了今天|下周)就?(?:涨价|恢复原价|没了)"
    r"|(?:下个?月|月底|下周|明天)就?(?:涨价|恢复原价|没了|结束)|今晚[0-9]+点(?:就)?(?:结束|截止)"
    r"|最后1天|仅限今天|手慢无|错过(?:就|了)?(?:没|等)"
    r"|(?:不然|要不然|否则|你不(?:加|续|充|刷|送|买))我?(?:今天|就|要|会){0,2}(?:白干|白播|白陪|受惩罚|被罚|被骂|挨骂|没饭吃"
    r"|去接别的|接别的|掉榜|输)"
    r"|你舍得(?:吗|么|嘛|让我|看我)|(?:都|也)不(?:愿意|舍得|肯)(?:吗|么|嘛)|表示(?:1下|下)?(?:诚意|心意)"
    # round 9: a gift owed as a courtesy or shamed as too small (礼物总要意思1下吧 别人都送的,
    # 棒棒糖太小气了)
    r"|(?:总要|总得|怎么也得|多少)(?:意思|表示)(?:1下|下)|别人都(?:送"
    r"|刷|充|买|续)|(?:太|这么|别这么)(?:小气|抠)"
    r"|(?:就|只|真的只|真的就)差你(?:1个|了|的)?|(?:别的|上次那个|其他|人家)(?:哥哥|老板|客人)[^\n]{0,10}(?:刷了|送了|充了|给我刷|续了)"
    # round 10: guilt for a small sum (这点钱都不愿意为我花吗), flattery owed back (你不是说只有我
    # 懂你吗), a ranking to keep or reach (帮我保住榜1, 差1点就第1了), a discount about to go
    # (优惠就今天; a discount named alone, 半价 or 满减, is a spend word, not pressure)
    r"|这点(?:小)?钱|(?:都|也)不(?:愿意|舍得|肯)(?:为|给|在)我[^\n]{0,4}(?:吗|么|嘛)"
    r"|(?:只有我|就我)(?:懂你|对你(?:最)?好|最懂你)|不是说(?:最)?(?:喜欢|爱)我"
    r"|(?:保住|守住|冲|上|掉出)(?:个)?(?:榜1|第1|前3|前10|榜)|差(?:1点|1点点|几个|1口气)(?:就)?(?:第1|榜1|上榜|冲上)"
    r"|(?:优惠|折扣|活动|特价)(?:只有|就|仅限|只剩)(?:今天|今晚|这1次)"
    r"|你(?:最|那么|这么|1向)(?:大方|豪气|疼我|舍得)"
    # round 11: scolded at work without the customer's money (不然明天我要被组长念了)
    r"|(?:不然|要不然|否则)[^\n]{0,6}(?:被|挨)(?:组长|领导|老板|经理|主管|公司|运营|公会)?"
    r"(?:念|骂|罚|批评|扣钱|扣工资|训)"
)
PRESSURE = re.compile(pattern_form(_PRESSURE))
SPEND = re.compile(pattern_form(_SPEND))
PRESS = re.compile(pattern_form(_PRESS))
# Thanks for a gift, or telling the customer not to spend, is not a push.
NOT_PUSH = re.compile(
    pattern_form(r"谢谢|感谢|收到|不用|(?<!要)不要(?!的话)|别(?:送|刷|充|续|破费|花)|不需要|破费")
)
AGAIN = re.compile(pattern_form(r"再(?:来|送|刷|买|充|续|点|开|加)(?:个|1个|点|1次|1首)"))
# Round 8: once the companion has pushed in the session, a plea with no spend word in it presses
# the same push again (就1个 好不好嘛 最后求你1次, 别考虑啦 我真的只差你1个).
PLEA = re.compile(
    pattern_form(
        rf"{_PRESSURE}|求(?:求)?你|最后(?:求你)?1次"
        r"|就1个(?:嘛|吧|好不好|呗)?(?=$|\n|[ ,，。!！~嘛吧好])"
        r"|就这1次|别(?:考虑|犹豫|想)了?(?:啦|了|嘛)|至少[0-9]+|凑(?:个|够)?[0-9]+"
        # round 10: a lucky number to round up to (凑个长长久久), just one more (再1个就好)
        r"|凑(?:个|够|1个)?(?:长长久久|1生1世|整数|吉利|9999|666)|再(?:来|送|续|点|刷)?(?:最后)?1(?:个|次|单|首|朵|钟)"
        r"(?:就好|就行|就够|嘛|吧|呗|好不好)|考虑(?:什么|啥|嘛)"
        # round 11: one small gift named (就1个爱心), in English (pretty please, just this once)
        r"|就1个(?:爱心|小心心|礼物|火箭|棒棒糖|玫瑰|小礼物|心心)"
        r"|(?<![a-z])(?:pretty please|please please|just this once|just one more)(?![a-z])"
    )
)
# Round 11: the customer complaining about being asked (你怎么老要礼物, 又要礼物) has not asked
# about spending: the companion's next words are not an answer.
COMPLAINT = re.compile(pattern_form(r"怎么(?:老|又|总)|(?<!不)(?:又|老|总)要"))
SPEND_ASKED = re.compile(pattern_form(r"多少|怎么|什么|哪个|哪些|有没有|有什么|吗|\?|？"))
ANSWER_WINDOW_S = 60.0


# A pressing word right before a spend word (快点下单, 赶紧续) or right after it (加钟吧).
_PRESSED_BEFORE = re.compile(
    pattern_form(
        r"(?:快|赶紧|快点|再|多|直接|现在就?|要不要|不如|推荐你?|建议你?|考虑1下|试试"
        r"|come on|just|please|pls)[^\n]{0,4}$"
    )
)
_PRESSED_AFTER = re.compile(pattern_form(rf"[^\n]{{0,4}}?(?:{_PRESS})"))


def pushes(text: str) -> int:
    """How many times a companion's message presses to spend: each spend word or push phrase
    with a pressing word beside it (at least once when there is a push phrase), and once more
    for pressure beside one.  A spend word alone (今天的打赏好多, 加时赛太刺激了) is no push: 0;
    nor is one under a negation (别破费啦 不用刷礼物)."""
    pushed = [m.span() for m in PUSH.finditer(text) if not declined(text, m.start())]
    spans = sorted([m.span() for m in SPEND.finditer(text)] + pushed)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pressed = 0
    pressers: set[int] = set()  # round 10: one 要不要 presses the words after it once
    for start, end in merged:
        if declined(text, start):
            continue
        if text[start] in "再快" or _PRESSED_AFTER.match(text, end):
            pressed += 1
        elif (before := _PRESSED_BEFORE.search(text, max(0, start - 8), start)) and (
            before.start() not in pressers
        ):
            pressers.add(before.start())
            pressed += 1
    pressed = max(pressed, 1 if pushed else 0)
    return pressed + (1 if pressed and PRESSURE.search(text) else 0)


# A spend word or push phrase right after a negation is the companion declining: 不用刷礼物.
# Round 10: not the 不要 of 要不要 (要不要买个套餐 presses).
_DECLINED = re.compile(
    pattern_form(r"(?:不用|(?<!要)不要|不需要|没必要|别|不必)[^,，。!！?？\n]{0,2}$")
)


def declined(text: str, start: int) -> bool:
    return _DECLINED.search(text, max(0, start - 5), start) is not None
