"""Valid-by-construction values for the corpus: mobile and landline numbers, GB 11643 identity
numbers, Luhn bank cards, QQ numbers and WeChat ids, all from one seeded ``rng``."""

from __future__ import annotations

import random

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
