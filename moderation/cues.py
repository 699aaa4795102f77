"""Words in normalized chat text: messenger cues and IDs, requests for contact details, offline
meetings, payment outside the platform, e-mail addresses and URLs.

Every pattern runs on ``moderation.normalize`` output: lower-case ASCII, Chinese digits as ASCII
digits (patterns are written in plain Chinese and put through ``pattern_form``, so ``一下`` in a
pattern matches ``1下`` in the text).  Messenger names may be spelled with up to two separators
or emoji between their characters (``微 信``, ``v.x``, ``扣❤扣``).

The lexicon is deliberately contextual where a word is common in harmless talk: ``约`` counts in
``约吗``/``约你``/``约饭`` but not in ``预约``/``大约``/``约定``; ``见面`` counts next to
``我们``/``和你``/``吧``/``吗`` but not in ``好久没和爸妈见面``; ``红包`` counts when one is
asked for or sent (``发个红包``), not in ``过年收了好多红包``; ``酒店`` counts with ``开房``/
``去``/``来``/``哪个`` but not in ``出差住酒店``; ``转账`` counts to or from *me*, not
``给房东转账``; and a request under a negation (``千万不要私下转账``) is a warning, not a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from moderation.hanzi import homophones, sounding
from moderation.normalize import pattern_form
from moderation.numbers import SEP

GAP = f"{SEP}{{0,2}}"  # between the characters of a messenger name


def _spaced(word: str) -> str:
    return GAP.join(re.escape(c) for c in word)


def _any(words: Iterable[str], spaced: bool = False) -> str:
    ordered = sorted(words, key=len, reverse=True)  # longest first: 微信号 before 微信
    return "(?:" + "|".join(_spaced(w) if spaced else re.escape(w) for w in ordered) + ")"


WECHAT = [
    "微信",
    "威信",
    "薇信",
    "徽信",
    "维信",
    "魏信",
    "卫信",
    "危信",
    "喂信",
    "围信",
    "溦信",
    "v信",
    "v芯",
    "w信",
    "绿泡泡",
    "绿色泡泡",
    "绿色软件",
    "绿色的软件",
    "绿色app",
    "绿色的app",
    "绿色聊天软件",
    "绿色的聊天软件",
    "绿软",
    "小绿书",
    "💚",
]
WECHAT_ASCII = ["vx", "wx", "vchat", "wechat", "weixin", "weix", "wxid"]
QQ = ["扣扣", "抠抠", "寇寇", "蔻蔻", "企鹅", "球球", "秋秋", "q号", "扣号", "🐧"]
QQ_ASCII = ["qq"]
OTHER = [
    "陌陌",
    "探探",
    "电报",
    "纸飞机",
    "飞机号",
    "抖音号",
    "抖音",
    "快手",
    "小红书",
    "微博",
    "快手号",
    "小红书号",
    "微博号",
    "钉钉",
    "tg号",
    "dy号",
    "ks号",
    "line号",
    "赖id",  # LINE in Taiwan (賴)
]
OTHER_ASCII = ["soul", "telegram", "tg", "whatsapp", "skype", "lineid"]
WORD_ASCII = ["line", "instagram", "ins"]  # English words too: only as whole words

# Homophones of 微信 from the characters' sounds (moderation.hanzi): any character read wei and
# any read xin, less the common words that are not evasions (为, 位, 未, 唯心 …); pinyin spelled
# out (weixin, wei xin, wei信, 微xin); a doubled character read kou (扣扣, 叩叩, 蔻蔻; not 口口).
_WEI = sounding("wei", exclude="为位未味胃尾伟委唯惟谓违慰畏伪猥萎苇纬蔚玮炜偎喂渭")
_XIN = sounding("xin", exclude="忄")
_WECHAT_SOUND = (
    f"(?:{_WEI}|喂|(?<![a-z])(?:wei|vei|v|w))(?:{SEP}{{0,2}})(?:{_XIN}|xin(?![a-z]))"
    f"|{_WEI}(?:{SEP}{{0,2}})x(?:in)?(?![a-z])"
)
_QQ_SOUND = "(?:" + "|".join(c + c for c in homophones("kou", exclude="口")) + ")"

MESSENGER = (
    "(?:"
    + _any(WECHAT + QQ + OTHER, spaced=True)
    + "|(?<![a-z])"
    + _any(WECHAT_ASCII + QQ_ASCII + OTHER_ASCII, spaced=True)
    + "|(?<![a-z])"
    + _any(WORD_ASCII)
    + f"(?![a-z])|{_WECHAT_SOUND}|{_QQ_SOUND}"
    + ")"
)
# A messenger name or the short forms only used after 加/+: 加v, +q.
_MSG_OR_LETTER = f"(?:{MESSENGER}|v(?![a-z])|q(?![a-z])|w(?![a-z]))"
_PHONE_WORD = "(?:电话号码|(?<![打回接])电话|手机号码|手机号|号码|联系方式|私人号|私号|座机)"

_CONTACT = [
    # 加我微信, 加个vx, +v, 加我好友
    rf"(?:加|\+|➕|求|要){GAP}(?:我的|你的|我|你|个|1下|下)?{GAP}(?:{_MSG_OR_LETTER}|联系方式)",
    r"私下加(?:你|我)|加你(?:吗|么|嘛|好友)|换个(?:软件|app|地方|平台)(?:聊|说|联系)",
    r"(?<![他她它])加(?:我|个)好友(?!了)",
    # 留个电话, 发我你的微信, 告诉我你的qq, 交换联系方式
    rf"(?:留|给|发|告诉|交换|换|要|求|私发|报)(?:我|你|1下|下|个)?(?:你的|我的|你|我|的|个)?"
    rf"{GAP}(?:{MESSENGER}|{_PHONE_WORD})",
    # 微信多少, vx号发我, 你电话是多少, 有qq吗
    rf"(?:{MESSENGER}|{_PHONE_WORD}){GAP}(?:号码|号)?(?:是)?{GAP}"
    r"(?:多少|啥|什么|发我|给我|发1下|给1下|有吗|有没|有么|有嘛|加我|加1下|同号|私聊|联系我|找我)",
    rf"(?:有没有|有木有|你有|玩不玩|用不用){GAP}(?:那个|这个)?{GAP}{MESSENGER}",
    r"(?:绿色|小绿)[^\n,，。]{0,4}上(?:聊|找我|联系|私聊|加我)",
    r"加(?:我|个)赖(?=$|\n|[吧呀啊呗,。，! ])",
    rf"(?<![a-z])jia ?(?:wo|ge)? ?{MESSENGER}",
    rf"(?:有|玩|用){GAP}{MESSENGER}{GAP}(?:吗|么|嘛|没|不)",
    r"(?:别的|其他|其它|私人)联系方式|手机号?(?:是)?多少",
    r"(?:下了平台|平台外|下线后|下播后|私下)(?:怎么|去哪|在哪|去哪儿)?(?:找你|联系你|找我|联系我)",
    # 你的绿泡泡呢, 把你微信推给我
    rf"你(?:的)?{GAP}{MESSENGER}{GAP}(?:号码|号)?{GAP}(?:呢|推给我|推我|给我|发我|是多少|多少|是啥|是什么)",
    rf"(?:去|到|上|换|用|走|来){MESSENGER}(?:上)?(?:聊|说|联系|私聊|找我)",
    r"(?:私下|外面|平台外|站外|在平台外)(?:聊|联系)|私聊我|私信我|私联",
    r"(?<![他她它])加我(?=$|[吧呀啊哦呗嘛!~.,。，！ ]|好友(?!了))",
    r"(?<![a-z])(?:add me|call me|text me|my number|your number|contact me|dm me)(?![a-z])",
    # the messenger ID is the phone number: 同手机号, vx同号, 微信就是手机号, 和手机号1样
    r"同(?:手机|电话)号?|(?:手机|电话)(?:号码|号)?同号",
    rf"(?:{MESSENGER}|{_PHONE_WORD}|手机)(?:号码|号)?(?:就是|也是|是|同|跟|和)(?:我的)?"
    rf"(?:{MESSENGER}|电话|手机)(?:号码|号)?(?:1样|相同)?",
    rf"(?:和|跟|与|同)(?:我的)?(?:{MESSENGER}|电话|手机)(?:号码|号)?(?:1样|相同)",
    # v我1下, 给个v, 留个v
    r"(?<![a-z])v(?:我|你)(?:1下|下|呗|吧|嘛)|(?<![a-z])v(?:1下|下)(?:呗|吧|嘛)?",
    r"(?:给|留|发|要|求|加)(?:我|你)?(?:个|1个|下)?(?<![a-z])[vq](?![a-z0-9])",
    # following each other on another platform: 互关, 互粉
    rf"互关|互粉|(?:关注|粉)(?:1下|下)?我(?:的)?{GAP}{MESSENGER}",
]

# A room in a game, not a hotel: 开个房间，你们进来 / 快进 / 密码 111.
_NOT_GAME_ROOM = r"(?![^。！？!?\n]{0,10}(?:进来|快进|你们进|密码|开黑|排位|组队|开局))"
_OUTING = "(?:吃饭|吃个饭|喝酒|喝1杯|看电影|逛街|唱歌|k歌|旅游|爬山|散步|喝咖啡|喝奶茶|吃火锅|去玩)"
_OFFLINE = [
    r"(?<!上)线下(?!线|单)",
    r"(?:我们|咱们|咱俩|我俩|和我|跟我|和你|跟你|与你|你我|想|约|出来|私下|单独|当面|可以|能|"
    r"要不要|什么时候|哪天|啥时候|有空|周末)(?:去|来|1起|出来)?见(?:个)?面",
    r"见(?:个)?面(?:吧|吗|么|嘛|呗|聊|好不好|行不行|可以吗|怎么样|如何|呀)",
    r"见1面|见1见|面基|奔现|约见|当面聊|面聊|见真人|见见你|见你1面|私下见|单独见|私底下见",
    r"见见(?:吧|呗|呀|面)|找个时间见|(?:楼下|门口|车站|路口)等(?:你|我)|约[^,.!?。！？]{0,4}见面|见(?:你|我)?本人|在哪(?:儿|里)?见|哪里见",
    # 出来玩 asks; 出来玩了 tells what happened
    r"出来(?:玩|见|坐坐|坐|喝|吃|约|走走|逛|1下|聚|吗|吧|么|嘛|呀|呗)(?![^,.!?。！？]{0,3}了)",
    r"订(?:好|了)?(?:个|间)?(?:房|酒店)|(?:我|你)(?:过去|过来)(?:找(?:你|我)|吧|吗)|我去找你(?!聊)",
    r"(?:来|去|到)(?:我|你)(?:那|这)(?:边|里|儿)?(?!个|些|种|样|么)|(?:来|去)接你|接你(?:下班|放学|吃饭)",
    rf"开(?:好|了|个|间|1间){{0,2}}房(?!子|车|门){_NOT_GAME_ROOM}"
    r"|(?:去|来|到|哪个|哪家)(?:我|你)?(?:的)?(?:酒店|宾馆|旅馆)"
    r"|(?:酒店|宾馆)(?:见|等|房间|房号|开)",
    r"过夜|包夜|陪睡|约炮|1夜情|睡1晚|(?<!师傅)上门(?!取|安装|维修|送|回收|推销|了)",
    r"(?:来|去|到)(?:我|你)家|你家在哪|你住(?:在)?哪|家住哪|住(?:在)?哪里|同城|送你回家",
    r"(?:去|来|到)(?:你|我)(?:的|那个)?(?:城市|学校|公司|小区|楼下)",
    r"(?:跟我|和我|陪我|我们|咱们)(?:1起)?出去|出去玩(?:吗|吧|么|嘛|呀)",
    r"(?:发|给|告诉|留)(?:我|你)?(?:个|1下|下)?(?:你的|我的|你|我)?(?:定位|位置|地址)",
    r"共享(?:个|1下|下)?位置|位置共享|(?:你|我)家地址|具体地址|地址(?:发|给|是多少|在哪|告诉)",
    r"(?<![预大节纽制合签条公契简婉隐])约(?:会吧|会吗|会呗|会么|会嘛|会呀|吗|么|嘛|不约|1下|1个|出来|你|炮|饭"
    r"|吃|酒|出去|个饭|个地方|个面|1起)",
    r"(?:我们|咱们|咱俩|和我|跟我|和你|跟你|陪我|出来)约会",
    r"请你(?:吃饭|吃|喝)|吃个饭|喝1杯",
    rf"(?:陪我|我们|咱们|咱俩|你和我|你跟我|和我|跟我|要不要|想不想|能不能)(?:1起)?(?:去|出去)?{_OUTING}",
    rf"1起(?:去|出去)?{_OUTING}(?:吧|吗|么|呀|呗|好不好|怎么样)",
    r"(?<![a-z])(?:meet up|meet in person|meet me|your address|hotel room)(?![a-z])",
]

_PAYMENT = [
    r"私下(?:转|交易|付|给|支付|打钱|结|收|红包|打款)|私底下(?:转|付|给|交易)",
    r"(?:不走|绕过|绕开|避开|跳过|不通过|不用|脱离)平台|平台外",
    r"(?:别|不要|不用)(?:在)?平台(?:上)?(?:充|付|买)|寄(?:给我|过来|到我)",
    r"线下(?:付|交易|转账|结)",
    r"(?:转|付|打|汇)(?:钱|款)?给我|给我(?:打钱|转|汇|打款)(?!了)|(?:先|直接|你)打钱|打款给",
    r"转我(?=[0-9]|$|[吧呀啊,。，! ])",
    r"(?:私下|直接|先|微信|支付宝|银行卡|银行|给我)转账|转账(?:给我|到我|我|吧|过来|给你)",
    r"(?:打|转|汇|付)(?:款|钱)?(?:到)?我(?:的)?(?:卡|银行卡|账户|帐户|支付宝|微信|账号|帐号)",
    r"(?:转|打|汇)(?:账|款|钱)?到(?:这张|这个|我的|我)?(?:卡|银行卡|账户|帐户|支付宝)|(?:给|帮)我充(?:个|点)?话费",
    r"(?:直接|先|微信|支付宝|私下|你)给我钱|(?:微信|支付宝)(?:给我|转我|付我|转给我)",
    r"(?<!支)付(?:给)?我(?!们)|付现金|现金(?:交易|支付|给我)|给(?:我|你)?现金",
    r"给我打(?:个|点)?钱|打(?:个|点)?钱给我",
    rf"(?:加我|加){GAP}(?:{MESSENGER}|v|q)?{GAP}(?:付款|付钱|转账|给钱|支付|发红包)",
    r"收款码|付款码|收钱码|(?:我的|发你|给你|发我)(?:个)?2维码|扫(?:我的|我|1下我的)(?:收款)?码|扫码(?:付|支付|转)",
    r"(?:发|给|包|要)(?:我|你)?(?:个|1个|点|几个)?(?:大)?(?:红包|🧧)|(?:红包|🧧)(?:给我|发我|转我|私发)"
    r"|私发(?:红包|🧧)|(?:微信|支付宝)红包",
    r"支付宝(?:账号|帐号|号|是)|收款账号|卡号(?:发|给)|银行卡号?(?:发|给|多少)"
    r"|(?:发|给)(?:我|你)(?:你的|我的)?(?:卡号|银行卡|支付宝)",
    r"(?<![a-z])v(?:我|你)[0-9]",
    r"(?<![a-z])(?:pay me directly|send me money|paypal|venmo)(?![a-z])",
]

_TLD = (
    "(?:com|cn|net|org|edu|gov|top|xyz|me|cc|io|vip|club|link|app|site|info|tk|ly|gl|tv|"
    "shop|online|ink|biz|asia|hk|tw|jp|uk|ru|email)"
)
_DOT = r"(?:\.|点|。|\(dot\)|\[dot\]|\sdot\s)"
_AT = r"(?:\(at\)|\[at\]|\sat\s|艾特|圈a)"
_EMAIL_URL = [
    rf"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{{0,63}}\s?@\s?[a-z0-9-]{{1,63}}"
    rf"(?:\s?{_DOT}\s?[a-z0-9-]{{1,63}})*\s?{_DOT}\s?[a-z]{{2,10}}(?![a-z])",
    rf"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{{0,63}}\s?{_AT}\s?[a-z0-9-]{{1,63}}"
    rf"(?:\s?{_DOT}\s?[a-z0-9-]{{1,63}})*\s?{_DOT}\s?{_TLD}(?![a-z])",
    r"(?:https?://|www\.)[!-~]+",
    rf"(?<![a-z0-9.@_-])(?:[a-z0-9][a-z0-9_-]{{0,62}}{_DOT})+{_TLD}(?![a-z0-9])(?:/[!-~]*)?",
]

# The cue before an ID: a messenger name, 加我/搜, or a bare v/q/w as a label (+v, Q：…).
_ID_CUE = (
    rf"(?:{MESSENGER}|加我|搜1下|搜索|搜|(?:加|\+|➕){GAP}[vqw](?![a-z])"
    r"|(?:(?<![a-z])[vqw]|微|薇|威|扣|飞机)(?=号|是|\s?:))"
)
# A messenger ID after its cue (微信号: abc_123, 加我 xiaomei520, 搜 abc123) or before it
# (xiaomei520 是我的微信).
_ID = r"[a-z][a-z0-9_-]{4,24}(?![a-z0-9_-])"
_ID_BEFORE = (
    rf"{_ID_CUE}{GAP}(?:号码|号|id|账号|帐号|hao)?{GAP}"
    rf"(?:找我|加我|联系我|私我|搜1下|搜|同号)?{GAP}(?:是|为|就是|:)?"
    rf"[\s:@]{{0,3}}(?P<id>{_ID})"
)
_ID_AFTER = (
    rf"(?<![a-z0-9_-])(?P<id2>[a-z][a-z0-9_-]{{5,24}}){GAP}(?:是|就是)(?:我的|我)?{GAP}{MESSENGER}"
)
MESSENGER_ID = re.compile(f"{_ID_BEFORE}|{_ID_AFTER}")
# A handle after a platform's name: 微博@甜甜圈_2022, ins: @yoyo.lin_99 (any script).
HANDLE = re.compile(
    rf"{MESSENGER}{GAP}(?:号码|号|id|账号|帐号)?{GAP}(?:搜|是|:)?[\s:]{{0,3}}"
    r"@(?P<handle>[^\s@,，。!！?？:：;；()（）]{2,24})"
)
# Words that may follow a messenger name without being an ID.
NOT_IDS = frozenset(
    [
        "wechat",
        "weixin",
        "please",
        "account",
        "number",
        "friend",
        "friends",
        "group",
        "message",
        "video",
        "voice",
        "later",
        "tomorrow",
        "tonight",
        "today",
        "maybe",
        "again",
        "thanks",
        "thank",
        "music",
        "games",
        "space",
        "email",
        "haha",
        "hahaha",
    ]
)
# A cue just before (or after) a bare digit run makes it a messenger ID (QQ 12345678), unless
# a unit follows the run (战力加了 23456 分); UNIT_AFTER is matched at the end of the run.
RUN_CUE_BEFORE = re.compile(rf"(?:{_ID_CUE}|加){GAP}(?:号码|号|id|账号|帐号)?[^0-9a-z]{{0,4}}$")
RUN_CUE_AFTER = re.compile(rf"^[^0-9a-z]{{0,3}}(?:是|就是)?(?:我的|我)?{GAP}{MESSENGER}")
UNIT_AFTER = re.compile(
    pattern_form(
        r"\s?(?:元|块|分|个|人|次|米|斤|岁|年|月|日|号|天|小时|万|千|百|k|w|点|%|星|名|级|局|场|条|张|钟|秒)"
    )
)


# A request under a negation is a warning, not a request (千万不要私下转账).  Only the words
# just before the match, in the same clause, count; 要不要/能不能 ask, they do not negate.
NEGATED = re.compile(
    r"(?:(?<![要能会可许])(?:不要|不能|不会|不可以|不许)|禁止|谨防|小心|防止|别(?!人|的))[^,.!?。！？]{0,3}$"
)


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern_form(p)})" for p in patterns))


CONTACT_REQUEST = _compile(_CONTACT)
OFFLINE_MEETING = _compile(_OFFLINE)
OFF_PLATFORM_PAYMENT = _compile(_PAYMENT)
EMAIL_URL = _compile(_EMAIL_URL)
