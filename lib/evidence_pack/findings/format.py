"""The house style for numbers in reader text (docs/style.md). Every sentence, table caption
and index label that shows money, a rank, a percentile or a share uses these, so one thing is
always written one way.

- Money: pounds with the pound sign, rounded to what the data support: ``money(78_712_345)``
  -> "£78.7m"; ``money(1975.4, per_head=True)`` -> "£1,975 a head"; never pennies.
- Percentiles of England's ranking: 0 = most deprived, 100 = least deprived, whole numbers.
- Ranks: 1st = most deprived, with the number of places ranked.
- Negative zero never shows: "-0.0" is written "0.0".
"""

from __future__ import annotations

import math
from typing import Any

#: The orientation sentence every report prints once, near its first percentile.
PERCENTILE_ORIENTATION = ("Percentiles rank every neighbourhood in England from 0 (most deprived) "
                          "to 100 (least deprived).")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | int | None, decimals: int = 0) -> str:
    """Thousands separators, fixed decimals, no negative zero; "n/a" when missing."""
    if _missing(value):
        return "n/a"
    text = f"{float(value):,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return text


def signed(value: float | int | None, decimals: int = 1) -> str:
    """A change with its sign: "+1.2", "-3.8", "0.0"."""
    if _missing(value):
        return "n/a"
    text = number(value, decimals)
    return text if text.startswith("-") or text.strip("0.,") == "" else f"+{text}"


def money(gbp: float | int | None, per_head: bool = False, unit: str | None = None) -> str:
    """Pounds for readers. Totals: "£78.7m" (0.1m), "£1.2bn" (0.1bn), "£950,000" below
    £1m (nearest £1,000), "£870" below £1,000. Per head: whole pounds, "£1,975 a head".
    ``unit`` forces "m" or "bn". Negative amounts keep the minus before the sign: "-£1.2m"."""
    if _missing(gbp):
        return "n/a"
    value = float(gbp)
    sign = "-" if value < 0 and round(abs(value)) != 0 else ""
    v = abs(value)
    if per_head:
        return f"{sign}£{v:,.0f} a head"
    if unit == "bn" or (unit is None and v >= 1e9):
        body = f"£{v / 1e9:,.1f}bn"
    elif unit == "m" or (unit is None and v >= 1e6):
        body = f"£{v / 1e6:,.1f}m"
    elif v >= 1e3:
        body = f"£{round(v, -3):,.0f}"
    else:
        body = f"£{v:,.0f}"
    if body.strip("£mbn,.0") == "":
        sign = ""
    return sign + body


def percent(share: float | None, decimals: int = 0) -> str:
    """A share (0-1) as a percentage: 0.153 -> "15%" (decimals=0) or "15.3%"."""
    if _missing(share):
        return "n/a"
    return number(100 * float(share), decimals) + "%"


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 53 -> "53rd"."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank(position: int, out_of: int | None = None) -> str:
    """A rank where 1st is the most deprived: "43rd of 296"."""
    return ordinal(position) + (f" of {int(out_of):,}" if out_of else "")


def percentile(value: float | None) -> str:
    """A position in England's ranking, 0 = most deprived: 4.2 -> "4th percentile"."""
    if _missing(value):
        return "n/a"
    return f"{ordinal(int(round(float(value))))} percentile"


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("IMD", "NHS")."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[:2].isupper():
        return text
    return text[0].lower() + text[1:]
