"""Cues in normalized chat text that the writer is under 18 (category ``minor``): an age
(我16岁, 我今年十五, 人家才14), a school year (我才初二, 还在上高一, 我是初中生, 小学六年级), or
未成年 said of oneself (我未成年, 还没成年, 不满18).

What is said of someone else or of the past does not count: 我女儿16岁, 我弟弟上初二, 我16岁那年,
我高一的时候, 我在教初三, 未成年人保护法; nor 初二 as a date (我初二回老家: the second day of
the new year).  ``AGE_ASKED`` finds the question (你多大了, 几岁) that makes a bare number in
the other party's reply an age.  Pure: no I/O.
"""

from __future__ import annotations

import re

from moderation.normalize import pattern_form

_ME = r"(?:我|人家|本人|俺)"
_AGE = r"(?:1[0-7])"
_NOT_PAST = (
    r"(?!岁?(?:那|的时候|时|就|以前|之前|开始)|[0-9]|年|月|号|点|分|块|元|个|斤|米|cm|kg|万|千|次"
    r"|级(?!生))"
)
_GRADE = r"(?:初[1-3]|高[1-3]|小学[1-6]年级|[1-6]年级)"
_NOT_DATE = r"(?!回|去|那|的时候|时|就|开始|以前|之前|到|走亲戚|拜年)"

_MINOR = [
    rf"{_ME}(?:今年|现在|才|刚|刚满|只有|还|也|就|已经)?{_AGE}(?:岁|周岁)?{_NOT_PAST}",
    rf"(?:^|(?<=\n)){_AGE}岁(?:了|啦|呀|哦|呢)?[,，]?(?:还)?(?:没成年|未成年|没满18)",
    rf"{_ME}(?:今年|现在|才|刚|还|也|就)?(?:在|是)?(?:上|读|念)?{_GRADE}{_NOT_DATE}",
    rf"(?:还在|正在|刚|才|刚刚)(?:上|读|念){_GRADE}{_NOT_DATE}",
    rf"{_ME}?(?:是|还是|只是)(?:个|1个|1名)?(?:初中生|中学生|高中生|小学生|初中的学生)",
    r"(?:^|(?<=\n))小学[1-6]年级(?!的时候|时|那)",
    rf"{_ME}(?:还|是|还是|才)?(?:个)?未成年(?!人)|(?:还|都)?没成年|未满18|不满18|没满18|不到18(?:岁)?(?!个|块|元|分)",
    r"未成年(?:可以|能|能不能|可不可以|也)",
]

MINOR = re.compile("|".join(f"(?:{pattern_form(p)})" for p in _MINOR))
# The question that makes a bare number in the reply an age.
AGE_ASKED = re.compile(
    pattern_form(r"多大了|多大啊|多大呀|几岁|年龄多少|读几年级|上几年级|成年了(?:吗|没)")
)
BARE_AGE = re.compile(r"(?:^|\n)(?:1[0-7])(?:岁|周岁)?[了啦呀哦呢~.。!！]*$")
