"""The house style for numbers in reader text."""

from __future__ import annotations

import math

import pytest
from evidence_pack.findings import format as fmt


@pytest.mark.parametrize(("gbp", "kw", "text"), [
    (78_712_345, {}, "£78.7m"),
    (410_943_000, {}, "£410.9m"),
    (1_234_000_000, {}, "£1.2bn"),
    (107_933.54, {}, "£108,000"),
    (870.4, {}, "£870"),
    (1975.4, {"per_head": True}, "£1,975 a head"),
    (-1_200_000, {}, "-£1.2m"),
    (-0.004, {}, "£0"),
    (40_000, {"unit": "m"}, "£0.0m"),
    (math.nan, {}, "n/a"),
])
def test_money(gbp, kw, text):
    assert fmt.money(gbp, **kw) == text


def test_no_negative_zero():
    assert fmt.number(-0.04, 1) == "0.0"
    assert fmt.signed(-0.04) == "0.0"
    assert fmt.signed(1.24) == "+1.2"
    assert fmt.signed(-3.81) == "-3.8"


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                         (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                         (53, "53rd"), (111, "111th")])
def test_ordinal(n, text):
    assert fmt.ordinal(n) == text


def test_rank_percentile_percent():
    assert fmt.rank(43, 296) == "43rd of 296"
    assert fmt.percentile(4.4) == "4th percentile"
    assert fmt.percent(0.153) == "15%"
    assert fmt.percent(0.153, 1) == "15.3%"
    assert fmt.lower_first("Social renting") == "social renting"
    assert fmt.lower_first("IMD rank") == "IMD rank"
