"""Council spend from MHCLG's official returns: Revenue Outturn summaries (RS, 2007-08 to
2023-24, what was spent) and Revenue Account budgets (RA, 2013-14 to 2021-22, what was
budgeted), every English local authority, into one tidy table.

Units: GBP thousand, cash (nominal) prices of each financial year; the measure is *net
current expenditure* (column 1 of the returns: gross spend less sales, fees, charges and
specific grants inside the service), on the basis the workbooks publish.

The workbooks change layout between years. Each belongs to one of four layout families
(``LAYOUTS``) read by one parameterised reader, ``read_workbook``; within a workbook the
reader *detects* what moves: the data sheet (titled "Net current expenditure"), the header
row (the row whose first cell is "E-code"), the ONS code column (absent before 2014-15:
codes are mapped from the DCLG E-code through the later workbooks' own E-code/ONS code
columns), the service-line columns (harmonised by ``harmonise_service``) and the two total
columns, "TOTAL SERVICE EXPENDITURE" and "NET CURRENT EXPENDITURE".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, write_parquet

OUTPUT = config.PROCESSED_DIR / "council_spend.parquet"

#: Line types in the tidy table.
SERVICE, TOTAL_SERVICE, NET_CURRENT = "service", "total_service_expenditure", "net_current_expenditure"


@dataclass(frozen=True)
class Layout:
    """One family of workbook layouts; ``read_workbook`` is parameterised by it.

    ``services``: "columns_before_total" (RS: every column between the authority's details
    and TOTAL SERVICE EXPENDITURE is a service line) or "subtotals_before_total" (RA: the
    detailed lines are followed by a "TOTAL <SERVICE>" subtotal column per service; only
    the subtotals are service lines).
    """

    name: str
    source: str  # "RS" | "RA"
    years: tuple[str, ...]  # financial years, e.g. "2011-12"
    services: str
    sheets: str  # "one sheet per measure" | "single sheet"


def _fy(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


LAYOUTS: tuple[Layout, ...] = (
    Layout("rs_multisheet", "RS", tuple(_fy(y) for y in range(2007, 2015)),
           "columns_before_total", "one sheet per measure"),
    Layout("rs_single_sheet", "RS", tuple(_fy(y) for y in range(2015, 2024)),
           "columns_before_total", "single sheet"),
    Layout("ra_multisheet", "RA", tuple(_fy(y) for y in range(2013, 2016)),
           "subtotals_before_total", "one sheet per measure"),
    Layout("ra_single_sheet", "RA", tuple(_fy(y) for y in range(2016, 2022)),
           "subtotals_before_total", "single sheet"),
)


def dataset_id(source: str, year: str) -> str:
    """Catalogue id of a return: ("RS", "2011-12") -> "rs2011_12"."""
    return f"{source.lower()}{year.replace('-', '_')}"


def layout_for(source: str, year: str) -> Layout:
    for lay in LAYOUTS:
        if lay.source == source and year in lay.years:
            return lay
    raise KeyError(f"no layout for {source} {year}")


def workbooks() -> list[tuple[str, str]]:
    """Every (source, financial year) pair the pack reads, in order."""
    return [(lay.source, y) for lay in LAYOUTS for y in lay.years]


# ------------------------------------------------------------------- service harmonisation

#: Harmonised service name -> pattern on the normalised label (lower case, "total " and
#: "services" removed). Order matters: first match wins.
SERVICE_RULES: tuple[tuple[str, str], ...] = (
    ("Education", r"^education"),
    ("Highways and transport", r"^highways"),
    ("Children's social care", r"^child(ren)?'?s? social care"),
    ("Adult social care", r"^adult social care"),
    ("Social care (children and adults)", r"^social care$"),
    ("Public health", r"^public health"),
    ("Housing (general fund)", r"^housing( \(gfra only\))?$"),
    ("Culture and related", r"^cultural"),
    ("Environmental and regulatory", r"^environmental"),
    ("Planning and development", r"^planning"),
    ("Police", r"^police"),
    ("Fire and rescue", r"^fire"),
    ("Courts", r"^court"),
    ("Central services", r"^central"),
    ("Other services", r"^other( \(exclude public health\))?$"),
)


def _norm(label: str) -> str:
    s = re.sub(r"[*\s]+", " ", str(label)).strip().lower()
    s = re.sub(r"^total ", "", s)
    s = re.sub(r"\(total of line.*$", "", s)
    s = s.replace("services", "").replace("service", "")
    s = s.replace(" and related", " and related").replace(",", "")
    return re.sub(r"\s+", " ", s).strip()


def harmonise_service(label: str) -> str | None:
    """Harmonised service name for a workbook column label, or None if it is not a service.

    >>> harmonise_service("TOTAL CHILDRENS SOCIAL CARE")
    "Children's social care"
    """
    n = _norm(label)
    for name, pattern in SERVICE_RULES:
        if re.search(pattern, n):
            return name
    return None


# ------------------------------------------------------------------------- cell reading

_NCE = re.compile(r"net current expenditure|net-exp", re.I)
_SHEET = re.compile(r"LA.?Data|Net current expenditure", re.I)
_ECODE = re.compile(r"^E\d{4}$")

#: Engines: "calamine" (python-calamine, Rust: ~10x faster, the default) or "native"
#: (xlrd for .xls, openpyxl for .xlsx). Both return the same cell values (tested).
ENGINES = ("calamine", "native")


def _header_index(rows: list[list], limit: int = 40) -> int | None:
    return next((i for i, r in enumerate(rows[:limit]) if r and _text(r[0]).lower() == "e-code"),
                None)


def _is_nce_sheet(rows: list[list], single_sheet: bool) -> bool:
    """True when the text above the header row names net current expenditure: in column A
    (the title of a one-measure sheet) or, on a single-sheet layout, anywhere above it."""
    h = _header_index(rows)
    if h is None:
        return False
    above = rows[:h]
    if any(_NCE.search(_text(r[0])) for r in above if r):
        return True
    return single_sheet and any(_NCE.search(_text(v)) for r in above for v in r)


def _trim(rows: list[list]) -> list[list]:
    """Cut every row to the width of the header row (some sheets declare 16384 columns)."""
    h = _header_index(rows)
    hdr = rows[h] if h is not None else []
    width = max((i for i, v in enumerate(hdr) if _text(v)), default=len(hdr) - 1) + 1
    return [list(r[:width]) for r in rows]


def _sheets_calamine(path: Path):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        if _SHEET.search(name):
            yield name, lambda name=name: book.get_sheet_by_name(name).to_python()


def _sheets_xlrd(path: Path):
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    for name in book.sheet_names():
        if _SHEET.search(name):
            def rows(name=name):
                sh = book.sheet_by_name(name)
                out = [sh.row_values(r) for r in range(sh.nrows)]
                book.unload_sheet(name)
                return out
            yield name, rows


def _sheets_openpyxl(path: Path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for name in book.sheetnames:
        if _SHEET.search(name):
            def rows(name=name):
                ws = book[name]
                head = [list(r) for r in ws.iter_rows(max_row=40, max_col=400, values_only=True)]
                h = _header_index(head)
                hdr = head[h] if h is not None else []
                width = max((i for i, v in enumerate(hdr) if _text(v)), default=0) + 1
                return [list(r) for r in ws.iter_rows(max_col=width, values_only=True)]
            yield name, rows


def read_rows(path: Path, single_sheet: bool = False, engine: str = "calamine"
              ) -> tuple[str, list[list]]:
    """(sheet name, rows of cell values) of the workbook's net current expenditure sheet.

    Candidate sheets are named "... LA Data ..." or "Net current expenditure ..."; the first
    whose title names net current expenditure is used. DataError if there is none.
    """
    path = Path(path)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    suffix = path.suffix.lower()
    if suffix not in {".xls", ".xlsx"}:
        raise DataError(path, f"unexpected file type {path.suffix!r}")
    if engine == "calamine":
        sheets = _sheets_calamine(path)
    else:
        sheets = _sheets_xlrd(path) if suffix == ".xls" else _sheets_openpyxl(path)
    for name, get_rows in sheets:
        rows = get_rows()
        if _is_nce_sheet(rows, single_sheet):
            return name, _trim(rows)
    raise DataError(path, "no sheet with a net current expenditure table")


# ------------------------------------------------------------------------------ reader

_META = {"e-code", "ons code", "local authority", "region", "class", "detailed class",
         "notes", "certification"}


def _text(v: object) -> str:
    return "" if v is None else re.sub(r"\s+", " ", str(v)).strip()


def _number(v: object) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip().replace(",", "")
    if s in {"", "-", "..", "x", "[x]", "[z]", "[c]"}:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def parse_rows(rows: list[list], layout: Layout, year: str, path: Path | str = "<workbook>"
               ) -> pd.DataFrame:
    """Tidy rows from the cells of one workbook's net current expenditure sheet.

    Returns columns: year, source, ecode, ons_code (None where the workbook has none),
    la_name, la_class, service, service_label, line (service | total_service_expenditure |
    net_current_expenditure), net_current_expenditure_gbp_thousands. Raises DataError when
    the header, a total column or a service line cannot be found or recognised.
    """
    hdr_i = _header_index(rows)
    if hdr_i is None:
        raise DataError(path, "no header row starting 'E-code' in the first 40 rows")
    header = [_text(v) for v in rows[hdr_i]]
    low = [h.lower() for h in header]

    def col(name: str, required: bool = True) -> int | None:
        if name in low:
            return low.index(name)
        if required:
            raise DataError(path, f"no {name!r} column in the header", row=hdr_i + 1)
        return None

    c_ons, c_name, c_class = col("ons code", False), col("local authority"), col("class")
    c_tse = next((j for j, h in enumerate(low) if h.startswith("total service expenditure")),
                 None)
    c_nce = next((j for j, h in enumerate(low) if h.startswith("net current expenditure")),
                 None)
    if c_tse is None or c_nce is None:
        raise DataError(path, "no TOTAL SERVICE EXPENDITURE / NET CURRENT EXPENDITURE column",
                        row=hdr_i + 1)
    services: list[tuple[int, str, str]] = []
    for j in range(c_class + 1, c_tse):
        label = header[j]
        if not label or label.lower() in _META:
            continue
        if layout.services == "subtotals_before_total" and not label.lower().startswith("total"):
            continue  # RA detail line: counted inside its service's subtotal
        name = harmonise_service(label)
        if name is None:
            if layout.services == "columns_before_total":
                raise DataError(path, f"unrecognised service column {label!r}", row=hdr_i + 1)
            continue
        services.append((j, name, label))
    if len({s[1] for s in services}) != len(services):
        raise DataError(path, f"a harmonised service appears twice: {[s[2] for s in services]}")
    if len(services) < 10:
        raise DataError(path, f"only {len(services)} service columns found", row=hdr_i + 1)

    records = []
    seen: set[str] = set()
    for i in range(hdr_i + 1, len(rows)):
        r = rows[i]
        ecode = _text(r[0]) if r else ""
        if ecode.lower() == "e-code" or _text(r[c_name]).upper() == "ENGLAND":
            break  # the class breakdown table below the authorities repeats some of them
        if not _ECODE.match(ecode):
            continue
        if ecode in seen:
            raise DataError(path, f"E-code {ecode} appears twice", row=i + 1)
        seen.add(ecode)
        ons = _text(r[c_ons]) if c_ons is not None else None
        base = {"ecode": ecode, "ons_code": ons or None, "la_name": _text(r[c_name]),
                "la_class": _text(r[c_class])}
        for j, name, label in services:
            records.append({**base, "service": name, "service_label": label, "line": SERVICE,
                            "value": _number(r[j]) if j < len(r) else None})
        for j, line, label in ((c_tse, TOTAL_SERVICE, header[c_tse]),
                               (c_nce, NET_CURRENT, header[c_nce])):
            records.append({**base, "service": line.replace("_", " ").capitalize(),
                            "service_label": label, "line": line,
                            "value": _number(r[j]) if j < len(r) else None})
    if not records:
        raise DataError(path, "no authority rows (first cell an E-code such as E4403)")
    df = pd.DataFrame.from_records(records)
    df.insert(0, "source", layout.source)
    df.insert(0, "year", year)
    return df.rename(columns={"value": "net_current_expenditure_gbp_thousands"})


def read_workbook(source: str, year: str, path: Path | None = None, engine: str = "calamine"
                  ) -> pd.DataFrame:
    """Read one RS or RA workbook (opened through the catalogue) with its layout family."""
    layout = layout_for(source, year)
    path = Path(path) if path is not None else catalogue.path_for(dataset_id(source, year))
    _, rows = read_rows(path, layout.sheets == "single sheet", engine)
    return parse_rows(rows, layout, year, path)


def attach_ons_codes(df: pd.DataFrame) -> pd.DataFrame:
    """Fill ``lad_code`` (ONS) for every row: the workbook's own ONS code where it has one,
    else the ONS code that later workbooks pair with the same DCLG E-code (the most recent
    pairing wins). Authorities abolished before 2014 keep lad_code = None.
    """
    pairs = (df.dropna(subset=["ons_code"]).sort_values("year")
             .drop_duplicates("ecode", keep="last").set_index("ecode")["ons_code"])
    out = df.copy()
    out["lad_code"] = out["ons_code"].fillna(out["ecode"].map(pairs))
    return out.drop(columns=["ons_code"])


COLUMNS = ["year", "source", "lad_code", "ecode", "la_name", "la_class", "service",
           "service_label", "line", "net_current_expenditure_gbp_thousands"]


def read_all(pairs: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Every RS and RA workbook in one tidy table (columns ``COLUMNS``)."""
    frames = [read_workbook(s, y) for s, y in (pairs or workbooks())]
    df = attach_ons_codes(pd.concat(frames, ignore_index=True))
    return df[COLUMNS]


def _inputs() -> list[Path]:
    return [catalogue.path_for(dataset_id(s, y)) for s, y in workbooks()]


def prepare(force: bool = False) -> list[Path]:
    """Build ``council_spend.parquet`` unless it is newer than every workbook."""
    inputs = _inputs()
    if not force and is_fresh([OUTPUT], [*inputs, Path(__file__)]):
        return [OUTPUT]
    return [write_parquet(read_all(), OUTPUT)]


def load() -> pd.DataFrame:
    """The tidy council spend table (builds it when absent)."""
    if not OUTPUT.exists():
        prepare()
    return pd.read_parquet(OUTPUT)
