"""Sexual content and solicitation in normalized chat text (category ``sexual``): explicit
requests, paid-sex euphemisms and prices (全套, 快餐, 过夜, 包夜, 一次多少), hotel and room
invitations, requests to undress on video or send photos, and their pinyin and initials
(yp, ml, pao, zuo ai, luo liao).

Patterns are written in plain Chinese and run on ``moderation.normalize`` output (Chinese digits
as ASCII: 一次 is matched as 1次; traditional characters already simplified).  Words that are
ordinary in companion chat count only in context: 全套 with a price or a question (not 全套装备,
全套餐具), 快餐 likewise (not 麦当劳快餐), 一次多少 alone or after a verb (not 跑步一次多少公里),
开房 unless a game room is meant (房间号 5521, 你们进来), ml and sm not after a number or before
卡.  Pure: no I/O.
"""

from __future__ import annotations

import re

from moderation.normalize import pattern_form

_ASK = r"(?:多少|几|什么价|啥价|价格|价钱|怎么(?:收|算)|[0-9]|吗|么|可以|行不行|来不来|还是|1次)"
_BODY = r"(?:胸|奶|咪咪|屁股|下面|下体|私处|那里|身子|身体)"
_CLOTHES = r"(?:衣服|内衣|内裤|裤子|胸罩|文胸|上衣|裙子|丝袜)"
_NOT_GAME_ROOM = r"(?![^。！？!?\n]{0,10}(?:进来|快进|密码|房号[0-9]|房间号[0-9]|开局|排位|组队))"
_END = r"(?=$|\n|[?？!！。.~,，吗么嘛呀啊呢])"

_SEXUAL = [
    # explicit acts and requests
    r"做爱|爱爱(?:吗|么|吧|1次)|上床|打炮|约炮|约泡|炮友|1炮|来1发|1夜情|性(?:交|爱|服务|交易)|口交|口爆|口活"
    r"|自慰|手淫|叫床|卖淫|嫖|援交|包养|莞式|大保健|楼凤|外围女|找小姐(?!姐)",
    r"(?:约|来|打)(?:个|1个)?(?:🔫|炮|泡)|🔫(?:吗|么|友)|啪(?:啪|1下|1次|1个)|床上(?:功夫|运动|技术)",
    r"(?:想|要|让我|我要|来|去)(?:干|上|操|日|睡|亲|舔|摸)(?:你|死你)(?![家们那这的])",
    r"(?:陪我|跟我|和我|今晚|晚上)(?:1起)?睡(?:1晚|1夜|觉|吗|吧|嘛|么)?(?!个?午觉|不着|懒觉|过头)",
    r"陪睡|睡(?:你|1晚|1夜)(?:多少|[0-9]|吗|么)",
    r"硬了|(?:下面|你)湿了(?:吗|没|么)?|我想射|射(?:给你|你|在)",
    r"打飞机(?:给|吗|么|呢)|(?:帮|给)(?:你|我)打飞机",
    r"你是处(?:女|男)?(?:吗|么|嘛|吧)|你(?:好|真|很|太)骚|(?:聊|说)(?:点|些)?(?:色|黄|荤|刺激)",
    r"(?<![a-z])(?:无套|戴不戴套|带不带套|不戴套|不带套)(?!路|餐|装)",
    r"(?:让你|让我|带你|帮你)爽|爽1下(?:吗|呗|吧|嘛)",
    r"(?:成年人|大人|成人)(?:的|之间的)?(?:事|游戏|运动|视频|内容|服务|那种)",
    r"色色|涩涩|瑟瑟(?!发抖)|(?:黄色|成人|色情|情色)(?:视频|图|片|网站|电影|小说)|黄(?:图|片|网)",
    # paid sex: services and prices
    rf"全套(?:服务|{_ASK})|(?:做|来|要|有)(?:个)?全套|快餐(?:服务|{_ASK})",
    rf"(?:过夜|包夜|1夜|1晚上|1晚|1个晚上|1宿)(?:{_ASK})",
    rf"(?:^|(?<=\n))1次多少(?:钱|米|块)?{_END}",
    r"(?:做|来|约|pp|ml|啪|口|睡|打)1次(?:多少|[0-9]|几)|(?:做|来)1次给你",
    r"(?:特殊|特别|额外|上门|莞式|按摩|spa|陪睡|成人)服务|出台|兼职(?:妹|女|学生)|学生妹",
    # undressing on video, photos
    rf"脱(?:光|掉|了|1下|下|1件)?{_CLOTHES}|把{_CLOTHES}脱|脱光|裸(?:照|聊|体|露|舞|拍|着|视频)|全裸",
    r"(?:^|[,，\n])脱了[吧呗嘛!！~]*(?=$|\n)|脱(?:1下|下|了|掉)?(?:给我看|给哥看|给你看|看看|吧|嘛|呗)|脱(?:给|让)我看|视频(?:里)?(?:脱|露)",
    r"(?:穿少|少穿)(?:1点|点)|露(?:1下|下|个|点|出)?(?:胸|奶|腿|屁股|下面|点肉|1点)|露1下给",
    rf"(?:看|拍|摸|舔|揉|亲)(?:1下|下|看)?(?:你的|你|我的|我)?{_BODY}|{_BODY}(?:多大|大不大|给我看)|罩杯",
    r"(?:看|发|拍)(?:1下|下|看)?(?:你的|你)?(?:内衣|内裤|胸罩)|(?:亲|舔|摸)(?:你|我)全身",
    r"(?:发|拍|给|有)(?:我)?(?:几张|张|点|些|个)?(?:你的)?(?:私房|福利|性感|裸|大尺度)(?:的)?(?:照|图|视频)"
    r"|私房照|福利(?:照|图|视频|姬)|大尺度(?:照|图|视频)|(?:摄像头|镜头)(?:往下|向下|下移)",
    # hotel and room invitations
    rf"开(?:好|了|个|间|1间){{0,2}}房(?!子|车|门|间|东|贷){_NOT_GAME_ROOM}",
    r"(?:去|来|到)(?:我|你)?(?:的)?(?:酒店|宾馆|旅馆|房间)(?:吗|吧|找我|等你|1起|么|嘛|开)",
    r"(?:1起|陪我)(?:去)?(?:酒店|宾馆|旅馆)|(?:酒店|宾馆|旅馆)(?:等你|等我|见)",
    r"房(?:间)?号[^\n]{0,12}(?:上来|过来|来找我|敲门)|大床房[,，]?(?:1起|等你|来吧|过来)",
    # pinyin and initials
    r"(?<![a-z])(?:yp|yuepao|yue ?pao|zuo ?ai|luo ?(?:liao|zhao|ti)|pa ?pa ?pa|papapa)(?![a-z])",
    r"(?:约|来|打)(?:个|1个)?(?: ?)(?:pao|p)(?![a-z])|做 ?ai(?![a-z])|zuo ?爱|luo(?=照|聊|体)",
    r"(?<![a-z0-9.])(?:pp|pa|ml)(?=吗|么|1次|1下|不|吧|嘛|多少)|(?:可以|想|要|来)(?:pp|pa|ml)(?![a-z])",
    r"(?:玩|来|喜欢|会|约)s ?m(?![a-z])|(?<![a-z])s ?m(?=玩|吗|么|调教|捆绑)",
    r"(?:^|(?<=\n))s ?m(?=$|\n)",
]

SEXUAL = re.compile("|".join(f"(?:{pattern_form(p)})" for p in _SEXUAL))
