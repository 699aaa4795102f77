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
    "微号",  # round 8: 微❤号 (the heart for 信 is dropped as a separator)
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
    "🟢",  # round 10: the green circle, like the green heart
]
WECHAT_ASCII = ["vx", "wx", "vchat", "wechat", "weixin", "weix", "wxid"]
QQ = ["扣扣", "抠抠", "寇寇", "蔻蔻", "企鹅", "球球", "秋秋", "q号", "扣号", "🐧"]
QQ_ASCII = ["qq"]
OTHER = [
    "陌陌",
    "探探",
    "电报",
    "纸飞机",
    "小飞机",  # round 8: Telegram's nickname
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
    "赖的id",
    "赖的号",
    "红薯",  # 小红书's nickname
    "围脖",  # 微博's
    "红薯号",
    "小蓝鸟",
    "推特",
    "脸书",
    "✈",  # Telegram's paper plane
]
OTHER_ASCII = ["soul", "telegram", "tg", "whatsapp", "skype", "lineid"]
WORD_ASCII = [
    "line",
    "instagram",
    "ins",
    "ig",
    "dy",
    "xhs",
    "tele",
    "fb",
    "twitter",
    "kakao",
    "kakaotalk",
    "discord",
]  # English words too: only as whole words

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
# One character standing for an app after a verb of adding or asking (加个薇, 有V吗, 扣我1下).
_ONE_CHAR_APP = r"(?:薇|威|卫|维|扣|企鹅|🐧|💚|🟢|✈|(?<![a-z])[vqw](?![a-z]))"
_CLAUSE_END = r"(?=$|\n|[吗么嘛吧呀呗啊哦咩,，。!！?？~ ]|好不好|行不行|可以吗|好吗)"
# Somewhere that is not this platform, and a verb of talking or reaching someone there.
_ELSEWHERE = r"(?:别的|其他|其它|另1个|另外的?|外面的?|外头的?|私人的?)(?:软件|app|平台|地方|号)"
# round 11: carrying on (继续, 接着聊), a call (连麦, 语音, 视频) and dialect's 唠
_REACH = r"(?:聊|说|联系|找|加|私聊|私信|细聊|见|继续|接着|连麦|语音|视频|通话|打电话|唠|搜)"
# 联络方式 (traditional 聯絡): round 10
_PHONE_WORD = (
    "(?:电话号码|(?<![打回接])电话|手机号码|手机号|号码|联系方式|联络方式|私人号|私号|座机)"
)

# 用 an app as a proposal (用微信视频吧), not someone's habit (我爸刚学会用微信视频, 我妈都用微信
# 联系我, 他们用微信语音): round 7.
_USE = r"(?:(?<![会都常天惯只在教爸妈爷奶婆公人])(?<!他们)(?<!她们)用)"

_CONTACT = [
    # 加我微信, 加个vx, +v, 加我好友
    rf"(?:加|\+|➕|求|要){GAP}(?:我的|你的|我|你|个|1下|下)?{GAP}(?:{_MSG_OR_LETTER}|联系方式)",
    r"私下加(?:你|我)|加你(?:吗|么|嘛)|(?<![里中上])(?<!游戏)(?<!里我)加你好友"
    r"|换个(?:软件|app|地方|平台)(?:聊|说|联系)",
    r"(?<![他她它])(?<!游戏里)(?<!游戏中)(?<!游戏)加(?:我|个)好友(?!了)",
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
    rf"(?:有|玩|用){GAP}{MESSENGER}{GAP}(?:吗|么|嘛|没|不|咩|伐|冇)",
    # round 7: the initials of 联系方式 and 微信 (lxfs, wx给我), the green bubble as emoji
    r"(?:给|发|留|要|有|求)(?:我|个|1个|下)?(?<![a-z])(?:lxfs|lianxi ?fangshi)(?![a-z])"
    r"|(?<![a-z])(?:lxfs|lianxi ?fangshi)(?:给|发|留|有|多少|呢|来|私)|(?:🟢|🍏|🥬)(?:🫧"
    r"|💬)[^\n]{0,4}(?:有|加"
    r"|吗|么)",
    r"(?:别的|其他|其它|私人)联系方式|手机号?(?:是)?多少",
    r"(?:下了平台|平台外|下线后|下播后|私下)(?:怎么|去哪|在哪|去哪儿)?(?:找你|联系你|找我|联系我)",
    # 你的绿泡泡呢, 把你微信推给我
    rf"你(?:的)?{GAP}{MESSENGER}{GAP}(?:号码|号)?{GAP}(?:呢|推给我|推我|给我|发我|是多少|多少|是啥|是什么)",
    rf"(?:去|到|上|换|{_USE}|走|来){MESSENGER}(?:上)?(?:聊|说|联系|私聊|找我)",
    r"(?:私下|外面|平台外|站外|在平台外)(?:聊|联系)|私聊我|私信我(?!看到|收到|看了)|私联",
    r"(?<![他她它])加我(?=$|[吧呀啊哦呗嘛!~.,。，！ ]|好友(?!了))",
    r"(?<![a-z])(?:add me|call me|text me|my number|your number|contact me|dm me)(?![a-z])",
    # round 12: 私底下联系, the other's socials or another app in English, "point to point"
    r"私(?:底|下)(?:下)?联系(?!方式的?(?:规定|条款))|(?<![a-z])(?:ur|your) socials(?![a-z])"
    r"|(?<![a-z])move to (?:snap|ig|insta|instagram|telegram|whatsapp|discord|line|wechat)(?![a-z])"
    r"|(?:直接)?点对点(?![^\n]{0,4}(?:传输|加密|网络|下载))",
    # the messenger ID is the phone number: 同手机号, vx同号, 微信就是手机号, 和手机号1样
    r"同(?:手机|电话)号?|(?:手机|电话)(?:号码|号)?同号",
    rf"(?:{MESSENGER}|{_PHONE_WORD}|手机)(?:号码|号)?(?:就是|也是|是|同|跟|和)(?:我的)?"
    rf"(?:{MESSENGER}|电话|手机)(?:号码|号)?(?:1样|相同)?",
    rf"(?:和|跟|与|同)(?:我的)?(?:{MESSENGER}|电话|手机)(?:号码|号)?(?:1样|相同)",
    # v我1下, 给个v, 留个v
    r"(?<![a-z])v(?:我|你)(?:1下|下|呗|吧|嘛)|(?<![a-z])v(?:1下|下)(?:呗|吧|嘛)?",
    r"(?:给|留|发|要|求|加)(?:我|你)?(?:个|1个|下)?(?<![a-z])[vq](?![a-z0-9])",
    # a profile elsewhere that holds the way to reach the writer: 主页有我联系方式, 简介里有v
    rf"(?:主页|简介|签名|个签|资料)(?:里|上)?(?:有|写着?)(?:我的)?{GAP}(?:{_MSG_OR_LETTER}|联系方式|号)",
    # someone's WeChat moments are seen only by friends: 你朋友圈能看吗
    r"(?:你|你的)朋友圈(?:能|可以|让|给|开|怎么|是)|(?:看|刷|翻)(?:1下|下)?(?:你|你的)朋友圈",
    # searching for the writer on another app: dy搜 xx, 小红书搜我, vx直接搜
    rf"{MESSENGER}{GAP}(?:上|里)?(?:直接)?(?:搜|搜索|查)(?!热|[^,，。\n]{{0,4}}(?:店|攻略|视频|歌|电影|新闻|教程|这|那|笔记))|{MESSENGER}[^,，。\n]{{0,12}}?(?:就|直接)搜|(?:直接|你)搜(?:1下|下)?(?:我|就|就能|就行|就有)"
    r"|(?:昵称|名字|网名|id)(?:直接)?搜(?:就|就能|就行|就有|1下|下)?|直接搜(?=$|\n|[ ,，。!！~吧])"
    rf"|{MESSENGER}(?:号)?(?:就是|是)(?:我的?)?(?:昵称|名字|网名)|{MESSENGER}(?:上)?有(?:号|账号)(?:吗|么|没|不)",
    # moving a call or the talk onto another app, to stop the meter: 去微信语音, 上飞机聊
    rf"(?:去|到|上|换|{_USE}|走|来){GAP}{MESSENGER}(?:上|里)?(?:语音|视频|打电话|通话|打视频|细聊|聊天)",
    r"上(?:纸)?飞机(?:聊|找我|联系|说)|(?:发|给)(?:我|你)(?:个|1个)号(?!码?[0-9])",
    # the writer's private or second account: 加我私人号, 我的小号
    r"(?:加|\+|➕)(?:我|你|1下|下|个)?(?:的)?(?:私人|私|小|另1个|工作)号",
    r"(?<![再多])加(?:1个|个|1下)(?:呗|吧|嘛)(?=$|\n|[ ,，。!！~])",
    r"(?:加|\+)(?:我|你)(?:的)?(?:私人|私下|另外)的(?=$|\n|[ ,，。!！~吧呀])",
    # handing over the way to reach: 我把我v发你, 把号发你
    rf"把(?:我的?|你的?)?(?:那边的?|那里的?)?{GAP}(?:{_MSG_OR_LETTER}|号|号码|联系方式|电话|手机号?)"
    r"(?:发|给|推|告诉)(?:你|我)",
    r"绕(?:开|过)(?:它|平台|这里|这个平台)",
    r"怎么(?:才能)?联系(?:到)?你|(?:给|留|发)(?:我)?(?:个|1个)(?:方式|联系)(?!方)",
    # following each other on another platform: 互关, 互粉
    rf"互关|互粉|(?:关注|粉)(?:1下|下)?我(?:的)?{GAP}{MESSENGER}",
]

# Round 8: a reason to talk elsewhere (this place is watched, filtered, or unsayable) and a
# hint of where (a profile, a number, another app), each harmless alone.
_LEAVE_REASON = (
    r"(?:(?:在这|这里|这儿|平台上?)(?:里)?(?:说话|聊天)?(?:不好|不方便|不能|没法|不敢)(?:直接)?(?:说|聊|讲|发)"
    r"|(?:这里|这儿|在这|平台)(?:说话|聊天|聊)?[^\n,，。]{0,5}有人(?:看着|盯着|监控|在看|偷看)"
    r"|(?:老|会|总|怕|容易)被(?:和谐|屏蔽|监控)"
    # round 11: told not to ask here, or "those who know, know" (别在这问, 懂的都懂)
    r"|别在(?:这|这里|这儿|平台)(?:里|上)?(?:问|说|提|聊这个)|懂的都懂)"
)
_HINT_WHERE = (
    r"(?:主页|签名|个签|昵称|简介|(?<!账)号(?!码?[0-9])|别的|换个|私下|外面|加我|软件|app|联系方式"
    r"|私聊(?!收费|价格|多少|[0-9])"
    r"|(?<![a-z])[vqw](?![a-z]))"
)

# The structural forms, a pattern of their own: they start at common characters (有, 给, 用),
# and each start tries only this alternation, not the whole lexicon (``moderation.gate``).
_CONTACT_APP = [
    # an app named any way + a verb of adding, moving or talking there
    rf"(?:加|\+|➕|留|给|有|要|求|用)(?:我|你|个|1个|1下|下)?(?:的)?{_ONE_CHAR_APP}{_CLAUSE_END}",
    r"(?<![a-z])(?:扣|薇|v|q|vx|wx)我(?:1下|下)(?!钱|分|了)",
    rf"{MESSENGER}(?:上|里)?{GAP}(?:聊|找我|联系我?|私聊|加我|私信我?|细聊|见)(?!天|过|了)",
    rf"{MESSENGER}(?:号|名|名字|id|账号)?(?:叫|叫什么|叫啥)",
    rf"(?:{MESSENGER})(?:上)?(?:关注|粉)(?:1下|下)?我|(?:互相|相互)关注(?:1下|下)?",
    r"加(?:我|你)?(?:1下|个|下)?(?:的)?(?:那个|这个)?(?:绿色|小绿)(?:的)?(?:那个)?(?:软件|app|泡泡)?",
    r"(?:绿色|小绿)(?:的)?(?:那个|这个)?(?:软件|app)?(?:上)?(?:聊|说|联系|加|找)(?!天)",
    r"(?:绿色|小绿)[^\n,，。]{0,4}上(?:说|细聊)",
    rf"(?:去|到|换到|换个|用){_ELSEWHERE}(?:上)?{_REACH}|{_ELSEWHERE}(?:上)?{_REACH}",
    rf"(?:在|到|去)外面{_REACH}",
    r"(?:出了|离开|下了|除了)(?:这个)?(?:平台|app|软件)[^,，。\n]{0,6}(?:联系|找|加|聊)",
    r"(?:以后|下次|之后|回头)(?:直接|私下)(?:联系|找|加|私聊)(?:我|你)",
    r"(?:不用|不通过|不走|不在|别在)(?:这个)?(?:平台|这里|这儿|这上面|这)(?:上)?(?:聊|联系|找|约|说)",
    r"(?:不用|不通过|不走)(?:这个)?平台",
    r"(?:单独|私下|偷偷)加(?:1下|下|个)?(?:你|我|好友)?",
    r"(?:给我|发我|留|告诉我)(?:你的|你)号(?!码?[0-9])",
    # round 7: 私聊号/小号发我; follow first, then talk in private (关注后私聊)
    r"(?:私聊|私人|联系)号(?:发|给)(?:我|你)|关注(?:我)?(?:后|之后)(?:再)?(?:私聊|私信我"
    r"|加我)(?=$|\n|[ ,，。!！~吧哦呀])",
    rf"(?:{MESSENGER}|{_PHONE_WORD})(?:号码|号)?(?:给|发|留|来)(?:1个|个|我)|加我(?:私聊|聊|细聊)",
    r"(?:名片|微信名片)(?:推|发|给)|推(?:个|1下|下)?(?:你的|我的)?名片",
    r"(?:扫|扫1扫|扫1下)(?:我的|我)?(?:2维码|码)[^,，。\n]{0,4}(?:加|好友)|2维码(?:加我|加1下|发你|发我)",
    r"拉(?:你|我)(?:进|入)(?:个|我的)?(?:群|群聊)|群号(?:多少|是|发|给)|(?:加|进)(?:1下|下)?(?:我的|我们的)(?:群|群聊)",
    r"(?:^|(?<=\n))(?:纸)?飞机上?(?:聊|找我|联系)(?!天)",
    # round 6: the same requests in other words
    r"加(?:我|你)(?:那个|这个|那边|那里)(?=$|\n|[ ,，。!！~吧呗我]|你懂)",
    # round 7: a swap of contact details, said without naming them (我给你我的 你也给我你的)
    r"我给你我的[,， ]?你(?:也)?给我你的(?=$|\n|[,，。!！~?？吧呗 ])",
    r"拉(?:你|我)(?:进|入)(?:你|我)?(?:那个|的)群|群里(?:直接)?(?:找|加|私聊)(?:你|我)",
    r"(?:你|你的)?有(?:没有)?(?:私人号|私号)(?:吗|么|嘛|没|不)"
    r"|(?:不会|不怕|不被|没有|没人)被?(?:平台)?监控(?!器|摄像)",
    r"(?:平台|这里|这儿)(?:以外|之外|外面)[^,，。\n]{0,4}(?:找|联系|加|聊)",
    rf"家(?:个|1个|1下|下)(?:的)?(?:{MESSENGER}|{_ONE_CHAR_APP}){_CLAUSE_END}",
    rf"(?:下|装|下载)(?:个|1个)?{MESSENGER}[^\n]{{0,8}}(?:我们|咱们|咱俩)(?:在那|在上面|去那)?(?:聊|说)"
    rf"|(?:下|装|下载)(?:个|1个)?{MESSENGER}[^\n]{{0,4}}(?:加我|找我)",
    # round 8: the writer's name on another app (探探上我叫 橘子汽水)
    rf"{MESSENGER}(?:上|里)(?:我|我的)(?:名字|昵称|网名|id|号)?叫",
    # another way to reach the other, asked for without naming it: 给个别的方式找你,
    # 给我个能找到你的方式, 有没有其他联系途径
    r"(?:别的|其他|其它|另外的?|私人的?)(?:联系)?(?:方式|途径|渠道|办法)[^\n]{0,4}(?:找|联系|加)(?:你|我|到)"
    r"|(?:能|可以)?(?:找到|找得到|联系到|联系上|联系|加到)(?:你|我)的(?:方式|途径|渠道|办法)",
    # leaving for another app or platform, the app unnamed: 换个聊天软件吧, 换个平台吧, 你用啥软件
    r"换(?:个|1个)?(?:聊天|社交|别的|其他)?(?:软件|app|平台)(?=$|\n|[ ,，。!！~吧呗嘛呀])"
    r"|你(?:平时)?(?:用|玩)(?:啥|什么|哪个)(?:聊天|社交)?(?:软件|app)(?=$|\n|[?？吗呀啊呢 ,，])"
    r"|(?:别|不要|不用)(?:在|从|通过)?(?:平台|这里|这儿|app)(?:上|里)?(?:点|下单|约|找)我",
    # an app by one letter, moved to or pinged there: 去v上说, q我 q我
    r"(?:去|到|上|换到?|走|来)(?<![a-z])[vqw](?:上|里)(?:聊|说|联系|细聊|找我|私聊)"
    r"|(?<![a-z])(?:q|v|vx|wx|扣)我(?=$|\n|[ ,，。!！~吧呀呗啊哦]|懂|(?:q|v)我)",
    # the way to reach hidden from the filter: 把号写纸上拍给我, 号藏在昵称里, 打字会被屏蔽
    r"(?:号|号码|联系方式|方式|微信|(?<![a-z])[vq](?![a-z]))[^\n]{0,3}(?:写|藏|放|挂)(?:在)?"
    r"(?:纸上|我的?(?:昵称|签名|个签|主页|简介|头像|资料|名字)|(?:昵称|签名|个签|简介|头像)(?:里|上))"
    r"|(?:打字|直接发|直接说|发出来|说出来|发号)(?:会|就|都|容易|老)被(?:屏蔽|和谐|吞|拦|封)",
    # a reason to leave the platform beside a hint of where: 你去我主页看签名 在这不好直接说
    rf"{_LEAVE_REASON}[^\n]{{0,24}}{_HINT_WHERE}|{_HINT_WHERE}[^\n]{{0,24}}{_LEAVE_REASON}",
    # round 9: another place to be found asked for, unnamed (你给个别的地方, 给个别的渠道), the
    # account about to go (号要被封了 找我得换个地方), a free app instead of the paid minutes
    # (换个软件免费视频), the other's whereabouts off the platform (下线以后怎么找你), in English
    r"(?:给|留|说|告诉)(?:我)?(?:个|1个)?(?:别的|其他|其它|另外的?"
    r"|私人的?)(?:地方|渠道|途径|联系方式|方式|号)(?![^\n]{0,3}(?:玩"
    r"|吃|逛|推荐|买))"
    r"|找我(?:的话)?[^\n]{0,4}(?:得|要|就|只能)?换(?:个|1个)?(?:地方|软件|app|平台|号)"
    r"|(?:号|账号)(?:可能|好像)?(?:要|会|快)?被封[^\n]{0,16}(?:找我"
    r"|换(?:个|1个)?(?:地方|软件|app|号)|加我|联系我)"
    r"|换(?:个|1个)?(?:聊天)?(?:软件|app|平台)[^\n]{0,4}(?:免费|不要钱|不花钱|不收费|不计时|不计费)"
    r"|(?:下线|下播|下了|不在线)(?:以后|之后|后)?(?:怎么|去哪"
    r"|在哪|去哪儿|还能)(?:找你|联系你|找到你)"
    r"|(?<![a-z])(?:talk|chat|text|move|switch|go|continue)(?: [a-z]+){0,2} (?:on"
    r"|to|in) (?:another|other|a different) (?:app|platform"
    r"|messenger)(?![a-z])"
    r"|(?<![a-z])(?:talk|chat|move|switch) (?:on|to) (?:whatsapp"
    r"|wechat|telegram|line|kakao|discord|signal)(?![a-z])",
    r"(?<![a-z])jia ?(?:ge|wo|ni) ?hao ?you(?![a-z])"
    r"|(?<![a-z])zhe ?li ?bu ?fang ?bian ?(?:shuo|liao)(?![a-z])",
    # round 10: adding each other (互加1下), a way asked for by what it allows (给个能打电话的方式),
    # another way of contact unnamed (给个别的联系), missing the other with no way to reach them
    # (想你了怎么找你), the number read out (把号码报1下), an app named then "find me" with a
    # space between (soul 上找我), talking somewhere else in English
    r"互加(?:1下|下|个|好友)?(?=$|\n|[ ,，。!！~?？吧吗呗嘛么])"
    r"|(?:给|留|发|说)(?:我)?(?:个|1个)?(?:能|可以)(?:打电话|联系|找到你|私聊|语音|视频|加你)的?(?:方式|办法|号|途径|渠道)"
    r"|(?:给|留)(?:我)?(?:个|1个)?(?:别的|其他|其它|另外的?|私人的?)(?:联系|联络)"
    r"|想(?:你|我)了?(?:怎么|咋|去哪|上哪)(?:办|找|联系)(?!法)[^\n]{0,12}(?:联系|方式|号|加|找)"
    r"|想(?:你|我)了?(?:怎么|咋|去哪|上哪)(?:找|联系)(?:你|我)"
    r"|号码?(?:报|念|说)(?:1下|下|给我|出来|1遍)|(?:我|让我)存(?:1下|下)?(?:你的?)?(?:号码|电话|手机)"
    rf"|{MESSENGER} (?:上|里)(?:找我|加我|聊|联系我|私聊)"
    r"|(?<![a-z])(?:talk|chat|text|move|continue|go|meet) (?:somewhere|someplace"
    r"|elsewhere)(?: else)?(?![a-z])"
    r"|(?<![a-z])(?:off|outside) (?:this|the) (?:app|platform)(?![a-z])"
    # another account asked for (你有别的号吗, 有没有小号 加我1下), a chat off the meter (私聊不扣费
    # 的那种), a QR code to scan (发个2维码给我扫1下)
    r"|(?<!游戏)(?<!游戏里)有(?:没有)?(?:别的|其他|其它|另1个|另外的?|小)号(?!码?[0-9])"
    r"(?=$|\n|[ ,，?？吗么嘛没不]|加)"
    r"(?![^\n]{0,10}(?:游戏|带带|上分|排位|王者|开黑|副本|区服))"
    r"|私聊[^\n]{0,4}(?:不扣费|不收费|不计费|不要钱|免费)"
    r"|(?:发|给)(?:我)?(?:个|张|1个|1张)?(?:你的)?2维码(?:给我|过来)?[^\n]{0,3}扫",
    # round 11: the same name on another app (wei信 同名 xx), the number told some other way
    # because it cannot be sent here (发不了号码的话 拆开发, 号码换个说法告诉我)
    rf"{MESSENGER}[ ,，]{{0,2}}(?:上|里)?(?:也是|也)?(?:同名|同id|同1个名字|名字1样|1样的名字)"
    r"|(?:号码|号|联系方式|微信|电话|手机号?)[^\n]{0,16}(?:拆开|分开|分段|分几次|分几条|换个说法|换种说法"
    r"|用谐音|谐音)(?:发|说|写|告诉|打)?"
    r"|(?:发不了|发不出|不能发|发不出去|不让发)(?:号码|号|联系方式|微信|电话|手机号?)[^\n]{0,16}(?:告诉我|发我|给我"
    r"|拆开|分开|换个|其他|别的)",
    # a place asked for by what it allows (你能收到消息的地方), a code to scan then leaving here
    # (我发个码给你扫1下 以后就不用在这聊了)
    r"(?:能|可以)(?:收到|收得到|看到)(?:我的)?(?:消息|信息|私信)的(?:地方|方式|号|app|软件)"
    r"|(?:码|2维码)[^\n]{0,8}扫[^\n]{0,12}(?:不用|别|不)(?:在|再在)?(?:这|这里|平台)(?:上)?(?:聊|说|找)",
]

# A room in a game, not a hotel: 开个房间，你们进来 / 快进 / 密码 111.
_NOT_GAME_ROOM = (
    r"(?![^。！？!?\n]{0,10}(?:进来|快进|你们进|直接进|进房|密码|开黑|排位|组队|开局"
    r"|房间号 ?[0-9]))"
    r"(?<!排位 我开房)(?<!排位我开房)(?<!开黑 我开房)(?<!开黑我开房)"
)
_OUTING = (
    "(?:吃(?:个|顿|1顿)?饭|喝(?:1杯|杯|点|个)?(?:酒|咖啡|奶茶)|喝1杯|看(?:个|场|1场|部)?电影|逛街|唱歌"
    "|k歌|旅游|爬山|散步|吃火锅|去玩)"
)
_OFFLINE = [
    r"(?<!上)线下(?!线|单|活动|聚会|读书会|分享会|沙龙|交流会"
    r"|见面会|观影会|课|培训|门店|店|渠道|比赛|赛|演出|展|支付"
    r"|办|举办|举行|进行|开会"
    r"|会议|考试|面试|教学|授课|讲座|签约|年会|体验)",
    r"(?:我们|咱们|咱俩|我俩|和我|跟我|和你|跟你|与你|你我|想|约|出来|私下|单独|当面|可以|能|"
    r"要不要|什么时候|哪天|啥时候|有空|周末)(?:去|来|1起|出来)?见(?:个)?面",
    r"见(?:个)?面(?:吧|吗|么|嘛|呗|聊|好不好|行不行|可以吗|怎么样|如何|呀)",
    r"见1面|见1见|面基|奔现|约见|当面聊|面聊|见真人|见见你|见你1面|私下见|单独见|私底下见",
    r"见见(?:吧|呗|呀|面)|找个时间见|(?:楼下|门口|车站|路口)等(?:你|我)|约[^,.!?。！？]{0,4}见面|见(?:你|我)?本人|在哪(?:儿|里)?见|哪里见",
    # 出来玩 asks; 出来玩了 tells what happened
    r"(?<![哭说笑拿看写喊吐叫猜认查算讲发做想])出来(?:玩|耍|浪|嗨|见|坐坐|坐|喝|吃|约|走走|逛|1下|聚"
    r"|吗|吧|么|嘛|呀|呗|陪(?:你|我)(?![爸妈家奶爷哥姐弟妹们]))(?![^,.!?。！？]{0,3}了)",
    r"(?:给你|帮你|为你|我们|咱们)订(?:好|了)?(?:个|间)?(?:房|酒店)"
    r"|订(?:好|了)?(?:个|间)?(?:房|酒店)[^,.!?。！？\n]{0,4}(?:你来|来吧|过来|等你|1起|陪我)",
    r"(?:我|你)(?:今晚|晚上|明天|明晚|等下|待会|1会儿|周末|下班|直接|马上)?(?:开车|打车|坐车|骑车|坐地铁|坐高铁|飞)?(?:过去|过来)"
    r"(?:找(?:你|我)|接(?:你|我)|看(?:你|我)|陪(?:你|我)|请(?:你|我)|吧|吗|$|[,，。!！~])"
    r"|我(?:能|可以|想|要)?去找你(?!聊|们|推荐|说的|的)",
    r"(?:你|你家)(?:住|在)(?:哪个|哪|什么)(?:小区|区|街道|位置|宾馆|酒店)|老地方见"
    r"|(?:点|点钟|点半)(?:在)?(?![^,，。!?\n]{0,6}(?:直播|游戏|房间|平台|群|线上|这里))"
    r"[^,，。!?0-9\n]{2,6}(?:见|碰头|集合)(?=$|\n|[,，。!！~吧啊哦])",
    r"(?:来|去|到)(?:我|你)(?:那|这)(?:边|里|儿)?(?!个|些|种|样|么)|(?:来|去)接你|接你(?:下班|放学|吃饭)",
    rf"(?:来|去|到)(?:我|你)(?:住的地方|住处|宿舍|公寓|房间){_NOT_GAME_ROOM}",
    rf"开(?:好|了|个|间|1间){{0,2}}房(?!子|车|门){_NOT_GAME_ROOM}"
    r"|(?:去|来|到)(?:我|你)(?:的)?(?:酒店|宾馆|旅馆)|(?:来|去)(?:酒店|宾馆)(?:找|等|陪|1起|吗|吧)"
    r"|(?:^|(?<=\n))(?:哪个|哪家)(?:酒店|宾馆)(?=$|\n|[?？呀啊呢])"
    r"|(?:你|你们)?住(?:在)?(?:哪个|哪家)(?:酒店|宾馆)|(?:哪个|哪家)(?:酒店|宾馆)(?:见|等)"
    r"|(?:酒店|宾馆)(?:见|等(?:你|我)|房号|开(?:房|个房|间))",
    r"(?:在|来|去|到)(?:我|你)(?:家|那|这)?过夜|过夜(?:吗|么|嘛|吧|呢|多少|[0-9]|可以|行|不)"
    r"|(?:陪(?:我|你)|1起|能|可以|要)过夜|包夜(?:吗|么|嘛|吧|多少|[0-9]|什么价|怎么|可以|行|呢)"
    r"|[0-9](?:块|元)?包夜|陪(?:我|你)?包夜"
    r"|陪睡|约炮|1夜情|睡1晚|(?<!师傅)上门(?!取|安装|维修|送|回收|推销|了|做饭|保洁|打扫|喂猫|家教|收)",
    r"(?:来|去|到)(?:我|你)家|你家在哪|你住(?:在)?哪(?!个城市|座城市|个省|个国家)|家住哪|住(?:在)?哪里|同城|送你回家",
    r"(?:去|来|到)(?:你|我)(?:的|那个)?(?:城市|学校|公司|小区|楼下)",
    r"(?:跟我|和我|陪我|我们|咱们)(?:1起)?出去|出去玩(?:吗|吧|么|嘛|呀)",
    r"(?:发|给|告诉|留)(?:我|你)?(?:个|1下|下)?(?:你的|我的|你|我)?(?:定位|位置|地址)",
    r"共享(?:个|1下|下)?位置|位置共享|(?:你|我)家地址|具体地址|地址(?:发|给|是多少|在哪|告诉)",
    r"(?<![预大节纽制合签条公契简婉隐])(?<!提前)(?<!需要)(?<!要先)约(?:会吧|会吗|会呗|会么|会嘛|会呀|吗|么|嘛|不约|1下|1个|出来|你|炮|饭"
    r"|吃|酒|出去|个饭|个地方|个面|1起)",
    r"(?:我们|咱们|咱俩|和我|跟我|和你|跟你|陪我|出来)约会",
    # 吃个饭 as an invitation, not the writer's own meal (我先去吃个饭): round 10
    r"请你(?:吃饭|吃|喝)|(?<!去)(?<!先)(?<!要)(?<!在)吃个饭|喝1杯",
    rf"(?:陪我|我们|咱们|咱俩|你和我|你跟我|和我|跟我|要不要|想不想|能不能)(?:1起)?(?:去|出去)?{_OUTING}",
    rf"1起(?:去|出去)?{_OUTING}(?:吧|吗|么|呀|呗|好不好|怎么样|\?|？)",
    # round 7: a place booked, then "come up" or "come and keep me company" (如家订好了 你直接上来,
    # 包厢我定好了 你来陪我唱); a place asked for by 说 (说个位置我马上到); picked up at a gate
    r"(?:订|定)好了?[^\n]{0,8}(?:你|直接)(?:直接)?(?:上来|过来|来(?:找|陪)我)|你(?:直接)?上来(?:吧|就行|就好)?[^\n]{0,4}房号"
    r"|你(?:能|可以|要不要|明天|今晚)?(?:过)?来陪我(?!聊|说)|(?:说|报)(?:个|1下|下)?(?:你的)?(?:位置|地址|定位)[^\n]{0,2}我(?:马上|这就|现在)(?:到|过来|过去)"
    r"|(?:去|到|在)[^,，。\n]{0,6}(?:校门口|门口|楼下|路口|车站|地铁口)(?:接|等)(?:你|我)(?![弟妹爸妈哥姐家儿女孩们朋同])",
    r"(?<![a-z])(?:meet up|meet in person|meet me|your address|hotel room)(?![a-z])",
    # a place set for the two of them: 约在地铁站见, 网吧见, 星巴克等你
    r"约在[^,，。!?？\n]{1,8}(?:见|碰头|碰面|集合|等)",
    r"(?:网吧|咖啡厅|咖啡馆|星巴克|麦当劳|肯德基|地铁站|地铁口|火车站|车站|商场|公园|电影院|酒吧|ktv|学校门口|校门口|小区门口)"
    r"(?:门口)?(?:见|碰头|碰面|集合|等你|等我)(?=$|\n|[ ,，。!！~吧啊哦呗呀])",
    r"面对面(?:聊|玩|开黑|见|坐|说|吃)|真人见面|现实(?:里|中)?见(?:面|1面)?|不用隔着屏幕",
    r"(?:门口|路口|出口|地铁站|广场|楼下|站口|地铁口|出站口"
    r"|检票口|电梯口|大厅)[ ,，]{0,2}(?:见|等(?:你|我)|不见不散"
    r"|碰头)",
    # round 9: a place named, then "I wait for you" (春熙路太古里 我等你), the station asked
    # (几号线哪个站), how to be recognised there (我穿白t恤 你到了就能认出我)
    r"(?:路|街|广场|太古里|商场|公园|地铁站|站|门口|楼下|路口)[ ,，]*我(?:在这"
    r"|在那)?等(?:你|着你)(?=$|\n|[ ,，。!！~吧哦啊呀])"
    r"|几号线(?:的)?(?:哪个|哪|什么)(?:站|口|出口)"
    r"|我(?:会)?穿(?:着)?[^\n]{1,10}(?:你|到时候)[^\n]{0,6}(?:认出|认得出|找到)我",
    r"(?:过去|过来|飞过去|到你那)找(?:你|我)(?!聊)",
    r"我(?:就|正好|刚好)?在你(?:附近|旁边|那边|楼下|小区|学校)(?!的)",
    r"(?:出差|旅游|路过|回老家)(?:到|去)?(?:你|你们)(?:那|那边|那里|城市|那儿)",
    r"(?<![a-z])(?:mian ?ji|jian ?mian|yue ?ma|chu ?lai ?wan|kai ?fang)(?![a-z])",
    # asking the other out: 要不要出来, 晚上出来
    r"(?:要不要|想不想|能不能|敢不敢|可以|晚上|今晚|明晚|明天|周末|放学后?|下班后?)出来"
    r"(?=$|\n|[ ,，。!！~?？吗吧呀呗嘛啊])",
    r"(?:我们|咱们|咱俩|1起|陪我)(?:去)?(?:酒店|宾馆|旅馆|开房)",
    r"(?:我|你)(?:在|到)(?:你|我)(?:楼下|门口|小区)(?:了|等)",
    # round 6: a time set, a place named, and 不见不散; 到时候见个面
    r"到时候?见(?:个|1)?面(?=$|\n|[?？吧呗呀啊])",
    r"(?:今晚|明晚|明天|后天|周[1-7六日末]|晚上|下午|中午)"
    r"(?![^\n]{0,24}(?:直播|线上|房间|游戏|开黑|语音|连麦|群|上线|频道|在线|视频|麦))[^\n]{0,24}不见不散",
    r"(?:去|带你去|带妳去|来|到|约在|1起去)(?:个|家|1家)?(?:汽车旅馆|摩铁|motel)",
    # round 8: coming to find the other, with a when or a how before it (顺路去找你, 下班来找你呗,
    # 来西安找我玩), not in a game or a stream
    r"(?:顺路|顺便|专门|特地|特意|下班|放学|周末|明天|今晚|晚上|到时候?|有空|回头)(?:就|再)?"
    r"(?:去|来|过去|过来)找(?:你|我)(?!聊|们|推荐|说的|的|要)"
    r"|来(?![^\n,，。]{0,6}(?:游戏|房间|群|直播|线上|队|区|服))[^\n,，。]{1,6}找我(?:玩|吃|喝|逛)",
    # two tickets or the other's fare paid: 买了两张票 你来嘛, 门票我出, 去机场接你
    r"(?:买|订|抢)(?:了|好|到)?(?:2|两)张[^\n]{0,6}票[^\n]{0,8}(?:你来|1起|陪我|你跟我|你和我|咱俩)"
    r"|(?:门票|机票|车票|车费|路费|高铁票|火车票|房费)(?:我|都我)(?:来)?(?:出|报|包|买|付)"
    r"(?=$|\n|[^\n]{0,6}(?:你|过来|来吧|来就))"
    r"|我(?:出|报|包)(?:你的?)(?:门票|机票|车票|车费|路费|高铁票)"
    r"|(?:去|到|在)(?:机场|高铁站|火车站|汽车站|出站口|到达口)(?:接|等)(?:你|我)(?![弟妹爸妈哥姐家儿女孩们朋同])",
    # an outing with the other to a named place: 陪我去趟迪士尼吧
    r"(?:陪我|带你|我带你|我们|咱们|咱俩|和我|跟我)(?:1起)?(?:去|出去)(?:趟|1趟)?(?:迪士尼|游乐园|欢乐谷|环球影城"
    r"|海洋馆|动物园|海边|演唱会|夜市|酒吧|ktv|看海|看日出)(?![^\n]{0,4}(?:团建|春游|秋游|出差|开会))",
    # a place set on the metro, a time asked: 约在地铁2号线人民广场站 你几点方便
    r"约在[^\n,，。]{1,12}(?:站|门口|广场|商场|楼下|路口|店)[^\n]{0,4}(?:你|几点|什么时候|见)",
    # a room already taken, said object first: 房我开好了 你人来就行
    r"(?<!游戏)(?<!排位)房(?:间)?(?:我)?(?:已经)?(?:开|订)好了" + _NOT_GAME_ROOM,
    # round 10: where the other lives, finer than a city (哪块, 哪个小区), how near the writer
    # is (你住海淀哪块 我就在五道口)
    r"你(?:住|家)(?:在)?[^\n,，。]{1,6}?哪(?:块|片|个小区|条街|栋|个路口)"
    r"|我(?:就|正好|刚好)?(?:在|住)[^\n,，。]{1,8}?(?:走|走路|骑车|开车|打车)(?:过去|过来)(?:找你|就到|[0-9十几]+分钟)"
    # taking the other out (哥哥带你出去散散心)
    r"|(?:带|陪)(?:你|妳)(?:1起)?(?:出去|去外面)(?:玩|散心|散散心|兜风|逛逛?|转转|走走)"
    r"|(?:带|陪)(?:你|妳)(?:1起)?去?(?:兜风|散心|散散心)",
    # round 12: meetings proposed indirectly.  A metro exit or a lobby as the place (3号口见,
    # 酒店大堂等你), a time and a place with a door and nothing else (明晚7点 太古里 星巴克门口),
    # "meet there" (就在那儿碰头), how near the other is with "come out now" (离我才3公里, 现在就
    # 出来), 见见 asked, the location sent then a call from downstairs, a table booked for the other
    # to come to, "you'll see me as you come in", English lobby talk
    r"(?:(?<![a-z])[0-9a-z]号?(?:出)?口|大堂|前台)[ ,，]{0,2}(?:见|等(?:你|我)|碰头|碰面)"
    r"(?!不|过|到|识|面会)"
    r"|(?:今晚|明晚|明天|后天|周[1-7六日末]|晚上|下午|中午)"
    r"(?![^\n]{0,24}(?:直播|线上|房间|游戏|开黑|语音|连麦|群|上线|频道|在线))"
    r"[^\n]{0,4}[0-9]+点(?:半)?[ ,，]*[^\n,，。]{2,14}"
    r"(?:门口|楼下|出口|路口|大堂)(?=$|\n)"
    r"|在(?:那|这)(?:儿|里|边)?(?:碰头|碰面|集合|见面|见)(?=$|\n|[ ,，。!！~吧啊哦呗呀])"
    r"|离(?:我|你)(?:家)?(?:才|只有|就|不到)[0-9.]+(?:公里|km|米)[^\n]{0,10}(?:出来|见|过来|找你)"
    r"|现在(?:就)?出来(?=$|\n|[ ,，。!！~?？吗吧呀呗嘛啊])"
    r"|见见(?=[?？]|吗|么)|(?<!这个)(?:位置|定位|地址)(?:已经)?发(?:给)?你了"
    r"|(?<!快递)(?<!外卖)(?<!东西)(?<![货他她])到(?:了|楼下|门口|小区门口)[^\n]{0,4}(?:给我)?打(?:个)?电话"
    r"|到了说(?:1声|1下)[^\n]{0,8}(?:门口|楼下)"
    r"|(?:订|定)好(?:了)?(?:位|座|桌)(?:了|子)?[^\n]{0,4}你(?:直接)?(?:来|过来)"
    r"|你(?:1)?进(?:门|店|来)就(?:能)?(?:看到|看见)"
    r"|(?<![a-z])(?:(?:be|meet|see you) at the [a-z ]{1,20}(?:lobby|station|entrance|exit)"
    r"|come down when|pick you up)(?![a-z])",
]

_PAYMENT = [
    r"私下(?:转|交易|付|给|支付|打钱|结|收|红包|打款)|私底下(?:转|付|给|交易)",
    r"(?:不走|绕过|绕开|避开|跳过|不通过|不用|脱离)平台|平台外",
    r"(?:别|不要|不用)(?:在)?平台(?:上)?(?:充|付|买)|寄(?:给我|过来|到我)",
    r"线下(?:付|交易|转账|结)",
    r"(?:转|付|打|汇)(?:钱|款)?给我(?![爸妈哥姐弟妹家们朋同老室])|给我(?:打钱|转|汇|打款)(?!了)|(?:先|直接|你)打钱|打款给",
    r"转我(?=[0-9]|$|[吧呀啊,。，! ])",
    # round 10: not a transfer said to go to someone else (微信转账给房东)
    r"(?:私下|直接|先|微信|支付宝|银行卡|银行|给我)转账"
    r"(?![^\n]{0,2}(?:给|到)(?!我(?![爸妈哥姐弟妹家们朋同老])|你(?!们)))"
    r"|转账(?:给我(?![爸妈哥姐弟妹家们朋同老])|到我|我|吧|过来|给你)",
    r"(?:打|转|汇|付)(?:款|钱)?(?:到)?我(?:的)?(?:卡|银行卡|账户|帐户|支付宝|微信|账号|帐号)",
    r"(?:转|打|汇)(?:账|款|钱)?到(?:这张|这个|我的|我)?(?:卡|银行卡|账户|帐户|支付宝)|(?:给|帮)我充(?:个|点)?话费",
    r"(?:直接|先|微信|支付宝|私下|你)给我钱|(?:微信|支付宝)(?:给我|转我|付我|转给我)",
    r"(?<!支)付(?:给)?我(?!们)|付现金|现金(?:交易|支付|给我)|给(?:我|你)?现金",
    r"给我打(?:个|点)?钱|打(?:个|点)?钱给我",
    rf"(?:加我|加){GAP}(?:{MESSENGER}|v|q)?{GAP}(?:付款|付钱|转账|给钱|支付|发红包)",
    r"(?:扫|扫1下)(?:这个|这)码(?:付|支付|转|给钱)|扫(?:1下)?(?:我|我的)(?:这个|那个)?(?:2维码|码)(?:付|支付|转|给钱)"
    r"|(?:比|比在)(?:平台|这里|这儿)(?:上)?(?:便宜|划算|省|少)(?:1半|很多|不少|多了|[0-9])"
    r"|(?<![a-z])(?:v|vx|wx)转(?:账)?(?=还是|吧|呗|给|我|你|$|\n|[ ,，?？])"
    r"|收款码|付款码|收钱码|(?:我的|发你|给你|发我)(?:个)?2维码|扫(?:我的|我|1下我的)(?:收款)?码|扫码(?:付|支付|转)",
    r"(?:发|给|包|要)(?:我|你)?(?:个|1个|点|几个)?(?:大)?(?:红包|🧧)(?!的)|(?:红包|🧧)(?:给我|发我|转我|私发)"
    r"|私发(?:红包|🧧)|(?:微信|支付宝)红包",
    r"支付宝(?:账号|帐号|号|是)|收款账号|卡号(?:发|给)|银行卡号?(?:发|给|多少)"
    r"|(?:发|给)(?:我|你)(?:你的|我的)?(?:卡号|银行卡|支付宝)",
    r"(?<![a-z])v(?:我|你)[0-9]",
    r"(?<![a-z])(?:pay me directly|send me money|paypal|venmo)(?![a-z])",
    # money to the other's own account: 转你微信, 支付宝直接给你
    r"(?:直接|私下|先)?(?:转|打|付|汇)(?:给)?你(?:的)?(?:微信|支付宝|卡|银行卡|账户)",
    r"(?:微信|支付宝|银行卡|现金)(?:直接|私下)?(?:给你|转你|付你|打给你|转给你|打你)",
    # the platform's cut named as the reason: 省得被抽成, 平台抽成太高
    r"(?:省|免|躲|避|逃|不被|不让|不给)(?:得|掉|开|过)?(?:被)?(?:平台)?(?:抽成|抽佣|扣点|抽水)"
    r"|(?:平台|这里)?(?:抽成|抽佣|抽水)(?:太|好|那么|这么)(?:高|多|狠|黑)|不(?:用|让)?平台抽",
    r"(?:别|不要|不用|不)(?:走|通过|经过|用)(?:这个)?(?:平台|这里|这儿|这上面)(?:了|吧|啦)?"
    r"(?=$|\n|[ ,，。!！~]|[^\n]{0,3}(?:转|付|打钱|微信|支付宝|云闪付|私下|直接))",
    r"(?:不通过|不经过|绕过)(?:这里|这儿)",
    r"(?:口令|支付宝|微信|qq)(?:口令)?红包",
    r"(?<![a-z])usdt(?![a-z])|比特币|泰达币|虚拟币|转(?:给)?你(?:[0-9]+|钱|块)|给你转(?:[0-9]+|钱|账)|代充|代付|代刷|(?:找我|我帮你)充(?:值)?(?:更)?便宜",
    r"(?:转|给|付)(?:给)?(?:你|我)(?:的)?(?:v|vx|wx)(?![a-z])",
    r"(?:不被|免得被|省得被|不让)平台(?:扣|抽|拿)|平台(?:要|会)?抽(?:1半|[0-9]+|走|掉|好多|很多|太多)",
    r"(?:付|交|转|给)(?:个|点)?(?:定金|订金|押金)|走(?:我的?)(?:2维码|码|支付宝|微信|卡)",
    r"见面(?:再)?(?:给|付|结)(?:钱|款|你|我)?(?=$|\n|[ ,，。!！~吧])",
    # round 6: money to the other's card, gift cards for time, the platform kept blind
    r"(?:打|转|汇)(?:钱|款)?到你(?:的)?(?:卡|银行卡|账户|帐户|支付宝|微信)(?:上|里)?(?![上里了])",
    r"(?:京东卡|购物卡|礼品卡|充值卡|苹果卡|e卡|超市卡|油卡)(?:可以|能)?(?:抵|代替|顶|换)"
    # round 12: settled monthly into the other's account
    r"|转(?:到)?(?:我|你)(?:的)?(?:账|帐)上|月结(?:吧|呗|行吗|可以吗)"
    r"|别在(?:这|这里|这儿|平台)(?:上)?下单|不在(?:这|这里|这儿)下单(?:行|可以|好)(?:吗|不|么)",
    r"平台(?:就|都|也)?(?:查不到|看不到|发现不了|管不着)(?:的|了)?(?=$|\n|[ ,，。!！~吧])"
    r"|(?:备注|附言)(?:写|别写|不要写)(?:别的|陪)|平台1分(?:钱)?(?:都)?(?:拿|抽|赚)不到",
    r"(?<![a-z])v(?:我|你)转(?:账)?(?![账了])|(?:只付宝|吱付宝|知付宝|支付包|zfb)(?:直接|私下)?(?:转|给|付|打)",
    r"不(?:用|要)?计(?:时|费)了?|(?:省|免)(?:掉)?(?:平台)?(?:的)?(?:费用|钟点费|时长费)",
    # round 8: other payment apps (云闪付转我), paying directly from now on (以后每周5我直接转你),
    # orders stopped here (你别在这接我的单了)
    r"(?:云闪付|银联|数字人民币|数币|京东支付|翼支付)(?:直接|私下)?(?:转|付|打|给)(?:给)?(?:我|你)"
    r"(?![妈爸哥姐弟妹家们朋同老])|(?:以后|每周|每月|每次|直接|私下)[^\n]{0,6}(?<!先)(?:直接|私下)转(?:给)?(?:你|我)(?![^\n]{0,3}(?:发|链接|文章|视频|消息|截图|群))"
    r"|(?:别|不要|不用)(?:在|从)?(?:这|这里|这儿|平台)(?:上)?(?:接|下)我的单",
    # round 9: money sent on another app (红包我去v上发你), orders stopped for direct payment
    # (别下单了 直接转账给我), money already sent (我给你转了520), the platform kept blind by a
    # transfer's memo (备注写还钱 平台就不知道了)
    r"(?:红包|🧧|钱|礼物)[^\n]{0,3}(?:我)?(?:去|到|在|上)(?:微信"
    r"|支付宝|qq|(?<![a-z])[vqw](?![a-z])|vx|wx)(?:上|里)?(?:发"
    r"|转|给)(?:你|我)?"
    r"|(?:别|不要|不用|不)(?:再)?(?:在(?:这|这里|平台)(?:上)?)?(?:下单"
    r"|点单|拍单)了?[^\n]{0,4}(?:直接|私下)(?:转|给|付|打)"
    r"|(?:我)?给你转了(?:[0-9]+|钱|账)|不在(?:这|这里|这儿|平台)(?:上)?下单了"
    r"|(?:备注|附言)(?:就)?(?:写|填|改成|写成)[^\n]{0,8}(?:平台|就不|查不)"
    r"|平台(?:就|都|也)?(?:不知道|不会知道)(?:了|的)?(?=$|\n|[ ,，。!！~吧])",
    # round 10: a gift card's code sent for the time (买张京东卡把卡密发我)
    r"(?:转|打|汇)(?:钱|款)?(?:到)?我(?:的)?(?:私人|个人)(?:账户|帐户|卡|账号|银行卡)|"
    r"卡密(?:发|给|私发|告诉)(?:我|过来)|把卡密|(?:京东卡|购物卡|礼品卡|充值卡|苹果卡|e卡|超市卡|油卡"
    r"|steam卡)[^\n]{0,10}(?:卡密|发我|给我)",
    # round 11: paid in a game's currency or items instead of an order (Q币给你充100 你多陪我,
    # 皮肤直接送你 当陪我的钱, 点券当报酬), the order or the meter here called off (平台就不下单了,
    # 别在这计时了)
    r"(?:q币|点券|钻石|皮肤|游戏币|金币|月卡|会员|装备|元宝)[^\n]{0,12}(?:当|抵|算|顶)(?:作|成)?"
    r"(?:报酬|陪我的钱|陪玩费|陪聊费|工资|钟点费|费用|你的钱|钱)"
    r"|(?:给你|帮你)充(?:[0-9]+|点|个)?(?:q币|点券|钻石|游戏币|金币|月卡|会员)[^\n]{0,12}(?:陪我|你陪|多陪|当|抵)"
    r"|(?:q币|点券|钻石|游戏币|金币)(?:直接)?给你充[^\n]{0,12}(?:陪我|你陪|多陪|当|抵)"
    r"|平台(?:上|这边|那边)?(?:就|也)?(?:不|别|不用)(?:再)?(?:走|下单|点单|拍单|计时)了?"
    r"(?=$|\n|[ ,，。!！~吧])"
    r"|(?:别|不要|不用)(?:在)?(?:这|这里|这儿|平台)(?:上)?计(?:时|费)",
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
    rf"(?<![a-z0-9.@_-])[a-z][a-z0-9_-]{{1,62}} ?(?:点|dot) ?{_TLD}(?![a-z0-9])",
    # spelled letter by letter: h t t p s : / / …, w w w . …, p e i w a n . c c
    r"h ?t ?t ?p ?s? ?: ?/ ?/(?: ?[!-~])+|w ?w ?w ?\. ?(?: ?[!-~])+",
    r"(?<![a-z0-9])(?:[a-z0-9] ){3,}[a-z0-9]? ?(?:\.|点) ?"
    r"(?:c ?o ?m|c ?n|n ?e ?t|c ?c|t ?o ?p|v ?i ?p|x ?y ?z)(?![a-z0-9])",
]

# The cue before an ID: a messenger name, 加我/搜, or a bare v/q/w as a label (+v, Q：…).
_ID_CUE = (
    rf"(?:{MESSENGER}|加我|搜1下|搜索|搜|(?:加|\+|➕){GAP}[vqw](?![a-z])"
    rf"|(?:(?<![a-z])[vqw]|微|薇|威|扣|飞机)(?={SEP}{{0,3}}(?:号|是|:))|卫星号|(?<![a-z])[vqw]我"
    rf"|{_WEI}{GAP}星"
    r"|(?<=我)(?:的)?(?<![a-z])[vqw](?=\s*(?:\n|$))"
    # round 8: 加我❤信 (an emoji for 微, dropped as a separator)
    r"|(?:加|\+|➕)我?信(?![息用任心号])"
    # round 9: voice typing's 为新 for 微信 after 加 (加我为新 好是xiaowang8866: 好 for 号)
    r"|(?:加|\+|➕)我?为新(?!的|朋友|好友|成员|人))"
)
# A messenger ID after its cue (微信号: abc_123, 加我 xiaomei520, 搜 abc123) or before it
# (xiaomei520 是我的微信).
_ID = r"(?:[a-z][a-z0-9_.-]{3,23}[a-z0-9_]|[0-9]{1,12}[a-z][a-z0-9_]{1,20})(?![a-z0-9_-])"
_ID_BEFORE = (
    rf"{_ID_CUE}{GAP}(?:的)?(?:号码|号|id|账号|帐号|hao|好(?=是))?{GAP}"
    rf"(?:找我|加我|联系我|私我|搜1下|搜|同号)?{GAP}(?:是|为|就是|:|shi ?:?)?"
    rf"[\s:@]{{0,3}}(?P<id>{_ID})"
)
_ID_AFTER = (
    rf"(?<![a-z0-9_-])(?P<id2>[a-z][a-z0-9_-]{{5,24}}){GAP}(?:这个|这)?(?:是|就是)(?:我的|我)?{GAP}"
    rf"(?:{MESSENGER}|(?<![a-z])[vqw](?![a-z]))"
)
MESSENGER_ID = re.compile(f"{_ID_BEFORE}|{_ID_AFTER}")
# A handle after a platform's name: 微博@甜甜圈_2022, ins: @yoyo.lin_99 (any script).
HANDLE = re.compile(
    rf"{MESSENGER}{GAP}(?:号码|号|id|账号|帐号)?{GAP}(?:搜|是|:)?[\s:]{{0,3}}"
    r"@(?P<handle>[^\s@,，。!！?？:：;；()（）]{2,24})"
)
# An @handle on its own (飞机 @babyblue99): this chat has no mentions, so one names an account
# elsewhere; an e-mail address is not one (a letter or digit before the @).
AT_HANDLE = re.compile(r"(?<![a-z0-9._%+-])@(?P<handle>[a-z][a-z0-9_.]{3,29})(?![a-z0-9_.@])")
# A bare v/q/w or vx as a label at a clause's start, anything between (v❤ qianqian520, q: abc99),
# then an ID with a digit in it.
LETTER_ID = re.compile(
    rf"(?:^|(?<=[\s,，。!！]))(?:[vqw]|vx|wx|ig|dy)(?![a-z0-9]){SEP}{{1,4}}"
    r"(?P<id>[a-z][a-z0-9_.]{1,23}[0-9][a-z0-9_]*|[0-9]{2,12}[a-z][a-z0-9_]{1,20})(?![a-z0-9_.-])"
    rf"|(?:微|薇|威|卫|扣|企鹅|🐧|💚|🟢){SEP}{{1,4}}(?P<id3>[a-z][a-z0-9_.-]{{1,23}}[0-9][a-z0-9_]*)"
    r"(?![a-z0-9_.-])"
)
# In a text that names an app (or a bare v/q label), any token shaped like an ID with both
# letters and digits is taken for one: 我的v是名字拼音加生日 lixiaoran0304.
APP_NAMED = re.compile(pattern_form(rf"{MESSENGER}|(?<![a-z])[vq](?![a-z])"))
ID_ANYWHERE = re.compile(
    r"(?<![a-z0-9_.@/-])(?P<id>[a-z][a-z0-9_.-]{3,23}[0-9][a-z0-9_]*"
    r"|[0-9]{1,12}_?[a-z][a-z0-9_]{2,20}"
    r"|[a-z][a-z0-9_.]{1,31}#[0-9]{4})"
    r"(?![a-z0-9_.@/-])"
)
# Round 7: an ID spelled letter by letter after an app (w x : s u n n y _ 9 9 1, wx号 z h a n g
# 1 9 9 5 _ x x), and a number ID told in pieces (q号前面是3391后面是20587).
SPELLED_ID = re.compile(
    rf"(?:{MESSENGER}|(?<![a-z])[vqw] ?[x]?(?![a-z]))(?:号|id| 号)?\s?[:：是]?\s?"
    r"(?P<id>(?:[a-z0-9_] ){4,}[a-z0-9_])(?![a-z0-9_])"
)
SPELLED = re.compile(r"(?:[a-z0-9_] ){4}")  # what SPELLED_ID needs, found fast
ID_IN_PIECES = re.compile(
    rf"{MESSENGER}(?:号|id)?[^\n]{{0,6}}(?:前面|前几位|开头)(?:是)?[^0-9\n]{{0,2}}(?P<a>[0-9]{{3,}})"
    r"[^0-9\n]{0,6}(?:后面|后几位|结尾|最后)(?:是)?[^0-9\n]{0,2}(?P<b>[0-9]{2,})"
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
    r"(?:(?<![要能会可许])(?:不要|不能|不会|不可以|不许|不允许|不准)|禁止|谨防|小心|防止|别(?!人|的))"
    r"[^,.!?。！？]{0,3}$"
)


# Round 7: the writer refusing, said as a plain "I don't" just before the request (我不加微信,
# 从来不见网友, 不方便私下加) or as a verdict just after it (线下见面是不行的, 加微信的话不可以哦):
# a companion or customer keeping to the rules, unless the clause asks (你不加我微信吗, 为什么不
# 见面, 见面不行吗?).  Not for a minor's cue (我还没成年不能充值 is still a minor's).
REFUSED_BEFORE = re.compile(
    r"(?<![要能会可为么怎咋有])(?:不|没|没有|从不|从来不|不想|不打算|不方便|不需要|没必要|不愿意|不喜欢"
    r"|不允许|不准)(?:再|去|会|私下|随便|跟你|和你)?$"
)
REFUSED_AFTER = re.compile(
    r"[^,.!?。！？\n]{0,6}?(?:是|就|的话|这个|这种|这事)?(?<![行可能])(?:不行|不可以|不能|不允许|不被允许|禁止|违规"
    r"|不合规|算了|免了|就不了)"
)
ASKED_AFTER = re.compile(r"[^,.!?。！？\n]{0,8}(?:吗|么|\?|？|呢)")
ASKED_BEFORE = re.compile(r"(?:为什么|为啥|怎么|干嘛|咋)[^,.!?。！？\n]{0,6}$")


def refused(text: str, start: int, end: int) -> bool:
    """Whether the request matched at ``text[start:end]`` is refused by its writer."""
    before = REFUSED_BEFORE.search(text, max(0, start - 8), start)
    if before is not None:
        at = before.start() + (text[before.start()] == "从")  # 从不: the 不
        if 0 < at < len(text) - 1 and text[at - 1] == text[at + 1]:
            before = None  # 想不想, 做不做, 来不来: asked, not refused
    after = REFUSED_AFTER.match(text, end) if before is None else None
    if before is None and after is None:
        return False
    if ASKED_AFTER.match(text, after.end() if after else end):
        return False
    return ASKED_BEFORE.search(text, max(0, start - 12), start) is None


# Round 7: a meeting of someone else's (异地恋3年了 明年终于能见面了, 他要调来我这边工作, 我妈下周
# 来我这边): a third party named earlier in the clause, and no 你/咱 between it and the cue.
# Round 10: a room in a game said before or after 开房间 (蛋仔派对组队吗 我开好房间了, 开个房间
# 1起打麻将吧): the room is the game's.
GAME_ROOM = re.compile(
    pattern_form(
        r"组队|开黑|游戏|排位|麻将|打牌|斗地主|3缺1|蛋仔|王者|吃鸡|和平精英|原神|狼人杀|谁是卧底"
        r"|你画我猜|房间号|(?<![a-z])(?:lol|pubg)(?![a-z])"
        # round 11: more games, whose friend lists and private chats are the game's
        r"|金铲铲|英雄联盟|第5人格|光遇|我的世界|永劫|蛋仔派对|(?<![a-z])(?:cf|csgo)(?![a-z])"
    )
)
GAME_ROOM_LOOK = 16
OTHERS_MEETING = re.compile(
    pattern_form(
        r"(?:异地|男朋友|女朋友|男友|女友|对象|老公|老婆|爸妈|我爸|我妈|爸爸|妈妈|父母|家人|亲戚|同学|闺蜜"
        r"|室友|同事|相亲|他|她|网友|朋友|网上认识)[^你咱。！？!?\n]{0,12}$"
    )
)
# Round 11: the people of someone's own life (a blind date, a boyfriend, a colleague) named
# inside a meeting's words (想约相亲对象见面): the meeting is with them, not the other party.
OTHERS_INSIDE = re.compile(
    pattern_form(
        r"相亲|对象|男朋友|女朋友|男友|女友|老公|老婆|爸妈|父母|家人|亲戚|同学|闺蜜|室友|同事|网友|客户"
    )
)
# Round 11: a request reported, not made (相亲对象1见面就说要加我微信, 我男朋友让我把手机号给他
# 妈 说要加我): someone of the writer's life named earlier in the clause, then a verb of saying or
# wanting, and no 你/咱 between; read only for a request that does not name 你 (我朋友说要加你
# 微信 is a request by proxy).
OTHERS_ASKING = re.compile(
    pattern_form(
        r"(?:相亲|对象|男朋友|女朋友|男友|女友|老公|老婆|我爸|我妈|爸爸|妈妈|父母|家人|亲戚|同学|闺蜜"
        r"|室友|同事|领导|老板|网友|他|她)[^你咱。！？!?\n]{0,16}(?:说|让|叫|问|非要|想|要|吵着)"
        r"[^你咱。！？!?\n]{0,3}$"
        # round 12: the person adding the writer named just before (前男友又加我微信了)
        r"|(?:前男友|前女友|前任|男朋友|女朋友|男友|女友|对象|同事|领导|老板|同学|室友|亲戚|网友)"
        r"(?:又|也|还|突然|居然|竟然|偷偷|昨天|今天|刚刚?){0,2}$"
    )
)
OTHERS_ASKING_LOOK = 24
# Round 11: talk about scams or the news (别信那些让你加qq退款的, 新闻说有人被骗到线下转账)
# and dating advice (相亲第1次见面就要微信合适吗): a request, a meeting or a payment named in
# them is reported or warned against, not made.
REPORTED = re.compile(
    pattern_form(
        r"骗子|诈骗|被骗|骗了|骗钱|骗到|杀猪盘|别信|不要信|新闻|案子|警察|报警|冒充|相亲"
        r"|(?:喜欢|暗恋)的(?:女生|男生|女孩|男孩|人)|教练"
    )
)
# Round 11: a game named just before a friend request or a private chat (王者里加我好友, 游戏里私聊
# 我): the game's own.
GAME_FRIEND = re.compile(pattern_form(r"好友|私聊|私信"))
# Round 11: a red envelope handed to family or a group (过年给侄子们发红包, 给员工发红包), not
# to the other party.
GIVEN_TO_OTHERS = re.compile(
    pattern_form(
        r"给(?!我|你)(?:[^\n,，。]{0,3})(?:侄|外甥|孩子|小孩|晚辈|员工|同事|爸|妈|长辈|亲戚|家人|老人|爷|奶"
        r"|外公|外婆|姥|学生|大家|群里|朋友|闺蜜|他|她)[^你我\n,，。]{0,4}$"
    )
)
# Round 12: a red envelope sent by a family member (我爸学会用微信发红包了, 在家族群发了个0.88).
GIVEN_BY_FAMILY = re.compile(
    pattern_form(
        r"(?:我爸|我妈|老爸|老妈|爸爸|妈妈|爷爷|奶奶|姥姥|姥爷|外公|外婆|家族群|家庭群|亲戚群|家人群)"
        r"[^你\n,，。]{0,10}$"
    )
)
# Round 12: a request quoted as words to be said (说'加个微信方便联系'会不会太刻意, how do you
# say 'can i get your number'): asked about, not made.
QUOTED_BEFORE = re.compile(
    pattern_form(r"(?:说|问|讲|say|ask|write)[ ,，:：]*[\'\"“‘「『][^\'\"”’」』\n]{0,30}$")
)
QUOTED = re.compile(
    pattern_form(
        r"(?:说|问|讲|say|ask|write)[ ,，:：]*[\'\"“‘「『][^\'\"”’」』\n]{1,30}[\'\"”’」』]"
    )
)
# Round 12: time added to a session on the platform (加钟吧, 加个钟, 续费): the model's contact
# request is not taken there (``detect._talked_about``).
EXTENDED_HERE = re.compile(pattern_form(r"加(?:个|1个|半个)?钟|加时|续(?:个|1个)?钟|续费"))
# Round 12: a phone number changed in one's own account on the platform (我换手机号了 平台绑定
# 的号码在哪里改).
OWN_ACCOUNT = re.compile(pattern_form(r"绑定|解绑|换绑|在哪(?:里|儿)?改|怎么改|实名|登录|验证码"))


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern_form(p)})" for p in patterns))


CONTACT_REQUEST = _compile(_CONTACT)
CONTACT_APP = _compile(_CONTACT_APP)
OFFLINE_MEETING = _compile(_OFFLINE)
OFF_PLATFORM_PAYMENT = _compile(_PAYMENT)
EMAIL_URL = _compile(_EMAIL_URL)
