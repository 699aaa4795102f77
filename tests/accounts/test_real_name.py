"""Real names: GB 11643 checks, sealing at rest (the database never holds a name or an ID
number in clear), masking, the attempt cap, one account per ID, and minors kept from paying."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from accounts import idcard
from kernel.clock import FakeClock
from kernel.crypto import Sealer, SealError
from tests.harness import bearer
from tests.harness.rig import RigFactory, make_rig

__all__ = ["make_rig"]
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def make_id(born: date, serial: str = "123", region: str = "110105") -> str:
    body = f"{region}{born:%Y%m%d}{serial}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def database_bytes(path: str) -> bytes:
    """The SQLite file and its write-ahead log: everything on disk."""
    files = [Path(path), Path(path + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def test_gb11643_checks_and_masks() -> None:
    assert idcard.valid("11010519491231002X")  # the standard's own example
    assert idcard.valid("11010519491231002x ")
    assert not idcard.valid("110105194912310021")  # wrong check character
    assert not idcard.valid(make_id(date(1990, 1, 1))[:-1] + "Z")
    assert not idcard.valid("110105199002300012")  # 30 February
    assert idcard.mask("11010519491231002X") == "110***********002X"
    assert idcard.adult_from(make_id(date(2008, 2, 29))) == date(2026, 3, 1)
    assert idcard.valid_name("张三") and idcard.valid_name("阿依古丽·买买提")
    assert not idcard.valid_name("Zhang San") and not idcard.valid_name("张3")
    assert idcard.mask_name("张三丰") == "张**"


def test_sealed_values_open_only_in_their_place_and_survive_rotation() -> None:
    k1, k2 = bytes(range(32)), bytes(range(1, 33))
    old = Sealer({"k1": k1}, "k1")
    token = old.seal("11010519491231002X", "real_name:u1:id")
    assert "11010519491231002X" not in token and token.startswith("k1:")
    rotated = Sealer({"k1": k1, "k2": k2}, "k2")
    assert rotated.open(token, "real_name:u1:id") == "11010519491231002X"
    assert rotated.seal("x", "c").startswith("k2:")
    with pytest.raises(SealError):
        rotated.open(token, "real_name:u2:id")  # copied onto another user
    raw = bytearray(base64.b64decode(token.split(":", 1)[1]))
    raw[-1] ^= 1
    with pytest.raises(SealError):
        rotated.open("k1:" + base64.b64encode(bytes(raw)).decode(), "real_name:u1:id")
    with pytest.raises(SealError):
        Sealer({"k2": k2}, "k2").open(token, "real_name:u1:id")  # k1 retired too early


async def test_verify_seal_mask_and_pay_only_as_an_adult(
    make_rig: RigFactory, clock: FakeClock, tmp_path: Path
) -> None:
    async with make_rig(clock, real_name_before_payment=True) as rig:
        adult, minor, other = [await rig.person() for _ in range(3)]
        topup = {"amount_fen": 1000}
        refused = await rig.http.post("/api/wallet/topups", json=topup, headers=bearer(adult.token))
        assert (await refused.json())["error"]["code"] == "real_name_required"

        id_number = make_id(date(1990, 5, 17))
        body = {"name": "李小龙", "id_number": id_number}
        ok = await rig.http.put("/api/me/real-name", json=body, headers=bearer(adult.token))
        assert await ok.json() == {
            "verified": True,
            "name_masked": "李**",
            "id_number_masked": idcard.mask(id_number),
            "adult": True,
        }
        paid = await rig.http.post("/api/wallet/topups", json=topup, headers=bearer(adult.token))
        assert paid.status == 201
        again = await rig.http.put("/api/me/real-name", json=body, headers=bearer(other.token))
        assert (await again.json())["error"]["code"] == "id_in_use"

        async with rig.db.reading() as s:
            rows = (await s.execute(text("SELECT * FROM real_names"))).all()
        dump = repr(rows)
        assert id_number not in dump and "李小龙" not in dump  # sealed at rest
        if rig.db.engine.url.get_backend_name() == "sqlite":
            raw = database_bytes(str(rig.db.engine.url.database))
            assert id_number.encode() not in raw and "李小龙".encode() not in raw

        kid = make_id(date(clock.now().year - 12, 1, 1))
        young = await rig.http.put(
            "/api/me/real-name",
            json={"name": "王小明", "id_number": kid},
            headers=bearer(minor.token),
        )
        assert (await young.json())["adult"] is False
        no = await rig.http.post("/api/wallet/topups", json=topup, headers=bearer(minor.token))
        assert (await no.json())["error"]["code"] == "minor_not_allowed"

        for i in range(4):  # with the id_in_use attempt above: 5 today
            bad = {"name": "赵六", "id_number": make_id(date(1980, 1, 1))[:-1] + "0"}
            if idcard.valid(bad["id_number"]):
                bad["id_number"] = bad["id_number"][:-1] + "1"
            resp = await rig.http.put("/api/me/real-name", json=bad, headers=bearer(other.token))
            assert (await resp.json())["error"]["code"] == "real_name_mismatch", i
        capped = await rig.http.put(
            "/api/me/real-name",
            json={"name": "赵六", "id_number": make_id(date(1980, 1, 1), "456")},
            headers=bearer(other.token),
        )
        assert (await capped.json())["error"]["code"] == "too_many_attempts"
        mine = await (await rig.http.get("/api/me/real-name", headers=bearer(other.token))).json()
        assert mine["verified"] is False
