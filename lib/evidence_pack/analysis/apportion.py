"""Money apportionment to the penny: integer pence, largest-remainder shares.

Money is held as integer pence (GBP x 100) and every split uses the largest-remainder
method, so the pieces add up exactly to the input. ``apportion_many`` shares many totals by
one set of weights at once (vectorised, in blocks), which is how large ledgers are shared:
lines are grouped by driver and each group is one matrix operation.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from evidence_pack.sources.io import DataError

REST = "rest-of-borough"

#: Lines shared per block in ``apportion_many`` (bounds memory: block x weights floats).
BLOCK = 4096


def thousands_to_pence(value: float) -> int:
    """GBP thousand (as published in RS/RA, possibly fractional) -> integer pence."""
    return int((Decimal(repr(float(value))) * 100_000).to_integral_value())


def apportion_pence(total_pence: int, weights: pd.Series) -> pd.Series:
    """Share ``total_pence`` across the index of ``weights`` in proportion to the weights.

    Largest-remainder method on integer pence: the result sums exactly to ``total_pence``;
    ties go to the earlier index entry. Weights must be non-negative with a positive sum.
    """
    w = weights.astype(float)
    if w.isna().any() or (w < 0).any() or w.sum() <= 0:
        raise DataError("<driver>", "driver weights must be non-negative with a positive sum")
    sign = -1 if total_pence < 0 else 1
    amount = abs(int(total_pence))
    wsum = Decimal(repr(float(w.sum())))
    exact = [Decimal(amount) * Decimal(repr(float(x))) / wsum for x in w]
    floors = [int(e) for e in exact]
    short = amount - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return pd.Series([sign * f for f in floors], index=weights.index, dtype="int64")


def pieces(weights: pd.Series, members: pd.DataFrame) -> pd.DataFrame:
    """Split each LSOA's driver weight between target areas and the rest of the borough.

    ``weights``: driver value by lsoa_code (the district's LSOAs of one vintage).
    ``members``: slug, lsoa_code, weight (share of the LSOA in the area), same vintage.
    Returns rows (lsoa_code, slug, driver) where the rest of the borough gets
    1 - sum(member shares) of each LSOA.
    """
    codes = weights.index.to_numpy()
    pos = pd.Index(codes).get_indexer(members["lsoa_code"].to_numpy())
    keep = pos >= 0
    m_pos = pos[keep]
    m_share = members["weight"].to_numpy(dtype=float)[keep]
    inside = np.bincount(m_pos, weights=m_share, minlength=len(codes))
    if (inside > 1 + 1e-9).any():
        raise DataError("<areas>", "an LSOA is assigned more than once across areas: "
                        f"{sorted(codes[inside > 1 + 1e-9])[:5]}")
    w = weights.to_numpy(dtype=float)
    out = pd.DataFrame({
        "lsoa_code": np.concatenate([codes[m_pos], codes]),
        "slug": np.concatenate([members["slug"].to_numpy()[keep],
                                np.full(len(codes), REST, dtype=object)]),
        "driver": np.concatenate([w[m_pos] * m_share, w * np.clip(1 - inside, 0, None)])})
    return out[out["driver"].to_numpy() > 0].reset_index(drop=True)


def area_baseline(total_pence: int, weights: pd.Series, members: pd.DataFrame) -> pd.DataFrame:
    """Apportion one borough-wide line to LSOAs by ``weights`` and sum to target areas plus
    the rest of the borough. ``members`` as for ``pieces`` (``area_slug`` accepted for
    ``slug``). Returns columns slug, pence; conserves money exactly.
    """
    members = members.rename(columns={"area_slug": "slug"})
    if "weight" not in members:
        members = members.assign(weight=1.0)
    p = pieces(weights, members)
    p["pence"] = apportion_pence(total_pence, p["driver"]).to_numpy()
    return p.groupby("slug", sort=False)["pence"].sum().reset_index()


def _check_weights(w: np.ndarray) -> None:
    if np.isnan(w).any() or (w < 0).any() or w.sum() <= 0:
        raise DataError("<driver>", "driver weights must be non-negative with a positive sum")


def apportion_many(totals_pence: np.ndarray | pd.Series, weights: pd.Series) -> np.ndarray:
    """Share each of ``totals_pence`` across ``weights`` (largest remainder, per total).

    Returns an int64 matrix (len(totals) x len(weights)) whose every row sums exactly to its
    total; ties go to the earlier weight, as in ``apportion_pence``. Vectorised with float64
    (exact for totals below 2**53 pence); any row the float arithmetic cannot settle is
    redone with ``apportion_pence`` (Decimal), so conservation never depends on rounding.
    """
    w = weights.astype(float).to_numpy()
    _check_weights(w)
    totals = np.asarray(totals_pence, dtype="int64")
    share = w / w.sum()
    out = np.empty((len(totals), len(w)), dtype="int64")
    for start in range(0, len(totals), BLOCK):
        t = totals[start:start + BLOCK]
        amount = np.abs(t)
        exact = amount[:, None].astype(float) * share[None, :]
        floors = np.floor(exact).astype("int64")
        short = amount - floors.sum(axis=1)
        order = np.argsort(-(exact - floors), axis=1, kind="stable")
        ranks = np.empty_like(order)
        rows = np.arange(len(t))[:, None]
        ranks[rows, order] = np.arange(len(w))[None, :]
        block = floors + (ranks < short[:, None]).astype("int64")
        bad = (short < 0) | (short > len(w)) | (block.sum(axis=1) != amount)
        for i in np.flatnonzero(bad):
            block[i] = apportion_pence(int(amount[i]), weights).to_numpy()
        out[start:start + BLOCK] = np.where(t[:, None] < 0, -block, block)
    return out


def share_lines(totals_pence: np.ndarray | pd.Series, piece_table: pd.DataFrame) -> pd.DataFrame:
    """Share many lines by one ``pieces`` table and sum the pieces to slugs.

    Returns a frame (one row per line, one int64 column per slug in order of first
    appearance) whose rows sum to the line totals.
    """
    matrix = apportion_many(totals_pence, piece_table["driver"])
    codes, slugs = pd.factorize(piece_table["slug"].to_numpy())
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(slugs)))
    return pd.DataFrame(np.add.reduceat(matrix[:, order], starts, axis=1), columns=list(slugs))
