"""The partner spend ledger: amounts, validation of every row, rejected rows for partners.

A ledger is a CSV or Excel file in the layout of ``data/templates/spend_ledger_template.csv``
(format: docs/spend_ledger.md); amounts are GBP, held as integer pence once read. Every row is
accepted or rejected with its row number and reason; nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis.spend_drivers import DRIVERS, district_lsoas
from evidence_pack.sources.io import DataError, write_text

LEDGER_TEMPLATE = config.ROOT / "data" / "templates" / "spend_ledger_template.csv"

#: The largest amount accepted on one ledger line: GBP 10bn, in pence.
CEILING_PENCE = 10_000_000_000 * 100

# Digits with commas only in groups of three (1,234,567) or none (1234567); at most two
# decimals after one decimal point.
_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
_CURRENCY = re.compile(r"^(?:£|GBP)\s*", re.IGNORECASE)


def parse_amount_pence(raw: object, path: Path | str = "<ledger>", row: int | None = None) -> int:
    """Parse a ledger amount into integer pence (GBP).

    Accepted: ``1234.5``, ``1,234.50``, ``GBP 1,234``, ``£1,234.50``, ``(500)`` (brackets:
    negative, accounting style) and a leading minus. Rejected with a DataError naming file,
    row and reason: blanks, commas not in groups of three (``12,50``, ``1,2,3,4``), spaces
    inside the number (``1 2``), more than one decimal point or more than two decimals, and
    anything above the GBP 10bn ceiling (so a 20-digit amount is a rejected row).
    """
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        raise DataError(path, "amount is blank", row=row)
    text = str(raw).strip()
    if not text:
        raise DataError(path, "amount is blank", row=row)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    if text.startswith("-") and not negative:
        negative, text = True, text[1:].strip()
    text = _CURRENCY.sub("", text)
    if not _NUMBER.match(text):
        why = ("commas must separate groups of three digits" if "," in text else
               "more than one decimal point" if text.count(".") > 1 else
               "more than two decimal places" if re.fullmatch(r"[\d,]*\.\d{3,}", text) else
               "not a money amount (digits, commas in groups of three, up to two decimals)")
        raise DataError(path, f"amount {raw!r}: {why}", row=row)
    pence = int(Decimal(text.replace(",", "")) * 100)
    if pence > CEILING_PENCE:
        raise DataError(path, f"amount {raw!r} is above the GBP 10bn ceiling for one line",
                        row=row)
    return -pence if negative else pence


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would read as a formula (first character = + - @, or a tab
    or carriage return) get a leading apostrophe, so Excel shows them as text. Numbers are
    left alone. For every CSV/XLSX the pack writes for people to open."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: f"'{v}" if isinstance(v, str) and v[:1] in
                                {"=", "+", "-", "@", "\t", "\r"} else v)
    return out


LEDGER_COLUMNS = ["partner", "service", "financial_year", "amount", "geography_type",
                  "geography_code", "driver"]
GEOGRAPHY_TYPES = ("area", "lsoa", "ward", "borough")
_FY = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class Ledger:
    """A validated ledger: accepted lines (with ``pence``), rejected lines (with ``reason``)
    and the reconciliation (rows and pence: accepted + rejected = input)."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __iter__(self):  # allows ``accepted, rejected = read_ledger(...)``
        return iter((self.accepted, self.rejected))

    def write_rejections(self, target: Path | str) -> Path:
        """Write the rejected rows with their row number and reason as CSV."""
        return write_text(neutralise_formulas(self.rejected).to_csv(index=False), target)


def _known(area_set, la_code: str | None) -> dict[str, set[str]]:
    la = la_code or (area_set.la_code if area_set is not None else config.DEFAULT_LA_CODE)
    known = {"area": set(area_set.slugs) if area_set is not None else set()}
    lsoas: set[str] = set()
    for v in (2011, 2021):
        try:
            lsoas |= set(district_lsoas(la, v))
        except DataError:
            pass
    known["lsoa"] = lsoas
    path = config.PROCESSED_DIR / "lsoa_geography.parquet"
    known["ward"] = set()
    if path.exists():
        g = pd.read_parquet(path, columns=["lad_code", "ward_code"])
        known["ward"] = set(g.loc[g["lad_code"] == la, "ward_code"].dropna())
    return known


def read_ledger(path: Path | str, area_set=None, *, drivers: Iterable[str] | None = None,
                known: Mapping[str, set[str]] | None = None, la_code: str | None = None
                ) -> Ledger:
    """Read and validate a partner spend ledger (CSV or Excel; amounts in GBP).

    Every row is accepted or rejected with a reason - blank or malformed amount, negative
    amount, zero, blank partner/service, bad financial year, unknown geography type, area,
    LSOA or ward, a borough/ward line without a known driver, an unknown driver, or a
    duplicate of an earlier line. ``known`` ({"area"|"lsoa"|"ward": codes}) overrides what
    is looked up from ``area_set`` and the processed store (tests pass it). Raises DataError
    if required columns are missing.
    """
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        raw = pd.read_excel(path, dtype=str, engine="calamine").fillna("")
    else:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in LEDGER_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; expected {LEDGER_COLUMNS}", row=1)
    known = dict(known) if known is not None else _known(area_set, la_code)
    drivers = set(drivers) if drivers is not None else set(DRIVERS)
    df = pd.DataFrame({c: raw[c].astype(str).str.strip() for c in LEDGER_COLUMNS})
    df["row"] = np.arange(2, len(df) + 2)
    parsed: dict[str, tuple[int | None, str | None]] = {}
    for text in df["amount"].unique():
        try:
            parsed[text] = (parse_amount_pence(text, path), None)
        except DataError as exc:
            parsed[text] = (None, exc.problem)
    pence = df["amount"].map(lambda t: parsed[t][0])
    reason = df["amount"].map(lambda t: parsed[t][1]).astype(object)
    gtype, code, drv = df["geography_type"].str.lower(), df["geography_code"], df["driver"]
    fy = df["financial_year"].str.extract(r"^(\d{4})-(\d{2})$").astype(float)
    p = pd.to_numeric(pence)
    checks = [
        (p < 0, lambda d: "negative amount (income or a correction): net it off against the "
         "line it corrects"),
        (p == 0, lambda d: "zero amount"),
        (df["partner"] == "", lambda d: "partner is blank"),
        (df["service"] == "", lambda d: "service is blank"),
        (~((fy[0] + 1) % 100 == fy[1]),
         lambda d: "financial_year " + d["financial_year"].map(repr) + " is not like 2011-12"),
        (~gtype.isin(GEOGRAPHY_TYPES), lambda d: "unknown geography_type " + d[
            "geography_type"].map(repr) + f" (use {'|'.join(GEOGRAPHY_TYPES)})"),
        ((gtype == "area") & ~code.isin(known.get("area", set())),
         lambda d: "unknown area " + d["geography_code"].map(repr)),
        ((gtype == "lsoa") & ~code.isin(known.get("lsoa", set())),
         lambda d: "unknown LSOA " + d["geography_code"].map(repr) +
         " (not an LSOA of this district)"),
        ((gtype == "ward") & ~code.isin(known.get("ward", set())),
         lambda d: "unknown ward " + d["geography_code"].map(repr)),
        ((gtype == "borough") & ~code.isin(["", "borough"]),
         lambda d: "borough-wide line must leave geography_code blank"),
        (gtype.isin(["borough", "ward"]) & (drv == ""),
         lambda d: "driver is blank for a shared line"),
        ((drv != "") & ~drv.isin(drivers), lambda d: "unknown driver " + d["driver"].map(repr)),
    ]
    for failed, why in checks:
        hit = reason.isna() & failed.fillna(False).astype(bool)
        if hit.any():
            reason[hit] = why(df[hit])
    first = df.groupby(LEDGER_COLUMNS, sort=False)["row"].transform("first")
    dup = reason.isna() & (first != df["row"])
    reason[dup] = "duplicate of row " + first[dup].astype(str)
    df["geography_type"] = gtype.where(gtype.isin(GEOGRAPHY_TYPES), df["geography_type"])
    df["pence"] = pence
    good = reason.isna().to_numpy()
    cols = [*LEDGER_COLUMNS, "row", "pence"]
    accepted = df.loc[good, cols].reset_index(drop=True)
    rejected = df.loc[~good, cols].assign(reason=reason[~good].to_numpy()).reset_index(drop=True)
    accepted["pence"] = accepted["pence"].astype("int64")
    rejected["pence"] = rejected["pence"].astype("Int64")
    rec_table = pd.DataFrame({
        "rows": [len(raw), len(accepted), len(rejected)],
        "pence": [int(accepted["pence"].sum()) + int(rejected["pence"].sum()),
                  int(accepted["pence"].sum()), int(rejected["pence"].sum())],
        "rows_without_amount": [int(rejected["pence"].isna().sum()), 0,
                                int(rejected["pence"].isna().sum())],
    }, index=["input", "accepted", "rejected"])
    if rec_table.loc["input", "rows"] != len(accepted) + len(rejected):  # pragma: no cover
        raise AssertionError("ledger rows do not reconcile")
    return Ledger(accepted, rejected, rec_table)
