"""A companion pushing the customer to spend more (category ``upsell``): packages (套餐, 包月,
VIP), top-ups (充值, 再充点), longer sessions (续一小时, 加钟, 加时, 延长) and gifts (刷个火箭,
送我个礼物).  One push is selling; the category is raised only when a companion pushes
``UPSELL_PUSHES`` times within ``UPSELL_WINDOW_S`` of one conversation (``moderation.window``
counts them).  Pure: no I/O.
"""

from __future__ import annotations

import re

from moderation.normalize import pattern_form

UPSELL_PUSHES = 3
UPSELL_WINDOW_S = 1800.0  # a session
MAX_PUSHES_KEPT = 16

_PUSH = [
    # packages and memberships
    r"(?:买|升级|升|办|开|选|换|订|上)(?:个|1个|下|1下)?(?:(?:[0-9]+|十|几|两)(?:个)?小时的)?(?:高级|更大的|大)?(?:套餐|包月|包周|包年|会员|vip|包)",
    r"套餐(?:吧|嘛|呗|划算|更划算|便宜|优惠)|(?:包月|包年|包周|vip|会员)(?:吧|嘛|呗|更划算|划算|才有|好不好)",
    r"打包(?:买|更)|包(?:更|比较)(?:便宜|划算)|(?:不|真的不)考虑(?:1下)?(?:包月|套餐|会员|续)",
    # top-ups
    r"(?:再|多|去|快|赶紧)?充(?:值|点|个|1下|下|1点|些|一些)(?:吧|嘛|呗|钱|去)?|(?:再|多)充[0-9]*|充[0-9]+(?:送|就|的档)",
    r"余额不(?:够|多)了?|快没(?:余额|钱)了",
    # longer sessions
    r"(?:再|多)?续(?:费|钟|单|1|2|3|个|时|1个|1下|下)|加(?:钟|时)|延(?:长|时)(?:1下|下)?|再(?:聊|陪)(?:1|半|2)?(?:个)?(?:小时|钟头)"
    r"|再加(?:半|1|2)(?:个)?小时",
    # gifts
    r"(?:送|刷)(?:我)?(?:个|1个|点|几个)?(?:礼物|火箭|飞机|嘉年华|跑车|游艇|小心心)|再(?:送|刷)(?:1个|个|点)",
    r"解锁(?:视频|更多|专属)|(?:才有|就有)专属服务",
]

PUSH = re.compile("|".join(f"(?:{pattern_form(p)})" for p in _PUSH))
