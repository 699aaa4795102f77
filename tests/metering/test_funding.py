"""The one funding rule (``metering.funding``): promo first, then the wallet, under the cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metering.funding import Funding, fund, within_cap

fen = st.integers(0, 10**7)
caps = st.none() | fen


@given(price=fen, promo=fen, wallet=fen, spent=fen, cap=caps)
def test_funding_properties(
    price: int, promo: int, wallet: int, spent: int, cap: int | None
) -> None:
    f = fund(price, promo_fen=promo, wallet_fen=wallet, spent_fen=spent, cap_fen=cap)
    # never negative, and what is taken is there
    assert f.from_promo >= 0 and f.from_wallet >= 0
    assert f.from_promo <= promo and f.from_wallet <= wallet
    if f.ok:
        # the parts are the price
        assert f.from_promo + f.from_wallet == price
        # promo first: the wallet pays only what promo could not
        assert f.from_wallet == 0 or f.from_promo == promo
        # never over the cap (promo never counts against it)
        assert cap is None or f.from_wallet == 0 or spent + f.from_wallet <= cap
    else:
        assert (f.from_promo, f.from_wallet) == (0, 0)
        short = price - min(price, promo)
        if f.refused == "insufficient_funds":
            assert short > wallet
        else:
            assert f.refused == "budget_exceeded"
            assert short <= wallet and cap is not None and spent + short > cap
    # refused exactly when it must be
    covered = price - min(price, promo) <= wallet
    assert f.ok == (covered and within_cap(spent, price - min(price, promo), cap))


@pytest.mark.parametrize(
    ("price", "promo", "wallet", "spent", "cap", "expected"),
    [
        (300, 0, 1000, 0, None, Funding(0, 300)),
        (300, 500, 1000, 0, None, Funding(300, 0)),
        (300, 100, 1000, 0, None, Funding(100, 200)),
        (300, 100, 199, 0, None, Funding(refused="insufficient_funds")),
        (300, 100, 1000, 1000, 1200, Funding(100, 200)),
        (300, 100, 1000, 1001, 1200, Funding(refused="budget_exceeded")),
        # promo alone pays past the cap: the cap is on cash
        (300, 300, 0, 5000, 1200, Funding(300, 0)),
        # short of money and over the cap: the money is what is said
        (300, 0, 10, 5000, 1200, Funding(refused="insufficient_funds")),
        (0, 0, 0, 0, 0, Funding(0, 0)),
    ],
)
def test_funding_examples(
    price: int, promo: int, wallet: int, spent: int, cap: int | None, expected: Funding
) -> None:
    assert fund(price, promo_fen=promo, wallet_fen=wallet, spent_fen=spent, cap_fen=cap) == expected


def test_a_negative_price_is_a_bug() -> None:
    with pytest.raises(ValueError):
        fund(-1, promo_fen=0, wallet_fen=0, spent_fen=0, cap_fen=None)


def test_within_cap() -> None:
    assert within_cap(1000, 200, 1200)
    assert not within_cap(1001, 200, 1200)
    assert within_cap(5000, 0, 1200)  # nothing more is always within
    assert within_cap(10**9, 10**9, None)
