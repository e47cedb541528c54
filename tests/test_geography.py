"""Boundaries: sf geometry conversion, 2001 LSOAs rebuilt from 2011 pieces, GeoJSON features,
and the processed GeoParquet files on the mirror."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.sources.io import DataError
from evidence_pack.stores import geography
from shapely.geometry import box, mapping


def test_rings_to_geom_polygon_and_multipolygon():
    ring = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    hole = np.array([[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]], dtype=float)
    poly = geography._rings_to_geom([ring, hole])
    assert poly.geom_type == "Polygon" and len(poly.interiors) == 1
    multi = geography._rings_to_geom([[ring], [ring + 2]])
    assert multi.geom_type == "MultiPolygon" and len(multi.geoms) == 2
    single = geography._rings_to_geom([[ring]])
    assert single.geom_type == "Polygon"
    with pytest.raises(ValueError):
        geography._rings_to_geom([])


def _lsoa11():
    # 2011: A1 and A2 are the halves of 2001 A; M is 2001 B and C merged; U unchanged
    return gpd.GeoDataFrame({"code": ["A1", "A2", "M", "U"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 2, 2, 3),
                                      box(5, 5, 6, 6)], crs=geography.CRS)


def test_rebuild_lsoa01_split_merge_same():
    lk = pd.DataFrame({"from_code": ["A", "A", "B", "C", "U"],
                       "to_code": ["A1", "A2", "M", "M", "U"]})
    out = geography.rebuild_lsoa01(_lsoa11(), lk).set_index("code")
    assert out.loc["A", "method"] == "union"
    assert out.loc["A", "geometry"].equals(box(0, 0, 2, 1))
    assert out.loc["B", "method"] == "merged" and out.loc["C", "method"] == "merged"
    assert out.loc["B", "geometry"].equals(out.loc["C", "geometry"])
    assert out.loc["U", "method"] == "same"
    assert out.loc["U", "geometry"].equals(box(5, 5, 6, 6))


def test_rebuild_lsoa01_missing_piece_raises():
    lk = pd.DataFrame({"from_code": ["A"], "to_code": ["NOPE"]})
    with pytest.raises(DataError, match="no boundary"):
        geography.rebuild_lsoa01(_lsoa11(), lk)


def test_read_geojson_features(tmp_path):
    good = tmp_path / "E01000001.geojsonl"
    # a small square near Rotherham in WGS84
    feat = {"type": "Feature", "properties": {"LSOA21CD": "E01000001", "LSOA21NM": "X 001A"},
            "geometry": mapping(box(-1.36, 53.43, -1.35, 53.44))}
    good.write_text(json.dumps(feat))
    g = geography.read_geojson_features([good], "LSOA21")
    assert g.crs.to_epsg() == 27700
    assert g["code"].tolist() == ["E01000001"] and g["name"].tolist() == ["X 001A"]
    x0, y0, x1, y1 = g.total_bounds
    assert 440_000 < x0 < x1 < 445_000 and 390_000 < y0 < y1 < 395_000
    bad = tmp_path / "bad.geojsonl"
    bad.write_text('{"type": "Feature", "properties": {}}')
    with pytest.raises(DataError, match="LSOA21CD") as info:
        geography.read_geojson_features([bad], "LSOA21")
    assert "bad.geojsonl" in str(info.value)


def test_read_sf_rda_rejects_non_r_file(tmp_path):
    p = tmp_path / "broken.rda"
    p.write_bytes(b"not an R file")
    with pytest.raises(DataError, match="broken.rda"):
        geography.read_sf_rda(p, "code", "name")


def test_missing_processed_file_says_how_to_build(tmp_path, monkeypatch):
    monkeypatch.setattr(geography, "P", tmp_path)
    geography._load.cache_clear()
    with pytest.raises(FileNotFoundError, match="prepare geography"):
        geography.lsoa_boundaries(2011, "E08000018", detail=False)
    geography._load.cache_clear()


# ---------------------------------------------------------------- processed files (mirror)


@pytest.fixture(scope="module")
def boundaries(raw_data):
    if not all(p.exists() for p in geography._outputs()):
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")


@pytest.mark.mirror
def test_england_lsoa_counts_and_crs(boundaries):
    for vintage in (2001, 2011, 2021):
        g = geography.lsoa_boundaries(vintage, detail=False)
        assert g.crs.to_epsg() == 27700
        english = g[g["code"].str.startswith("E")]
        assert len(english) == config.ENGLAND_LSOAS[vintage] == english["code"].nunique()
        assert english["lad_code"].notna().all()


@pytest.mark.mirror
def test_rotherham_boundaries(boundaries):
    la = "E08000018"
    counts = {v: len(geography.lsoa_boundaries(v, la, detail=False)) for v in (2001, 2011, 2021)}
    assert counts == {2001: 166, 2011: 167, 2021: 170}
    detail = {v: len(geography.lsoa_boundaries(v, la)) for v in (2001, 2011, 2021)}
    assert detail == counts
    assert len(geography.ward_boundaries(la)) == 25
    outline = geography.lad_boundaries(la)
    assert len(outline) == 1
    # Rotherham is about 287 km2
    assert 270e6 < outline.geometry.area.sum() < 300e6
    # the 2001 LSOA that split in 2011 is the union of its two 2011 parts
    l01 = geography.lsoa_boundaries(2001, la, detail=False).set_index("code")
    l11 = geography.lsoa_boundaries(2011, la, detail=False).set_index("code")
    assert l01.loc["E01007722", "method"] == "union"
    parts = l11.loc[["E01032926", "E01032927"], "geometry"].union_all()
    assert l01.loc["E01007722", "geometry"].symmetric_difference(parts).area < 1.0
    # detailed shapes have more vertices than the generalised ones
    d21 = geography.lsoa_boundaries(2021, la).geometry.count_coordinates().median()
    g21 = geography.lsoa_boundaries(2021, la, detail=False).geometry.count_coordinates().median()
    assert d21 > g21
    assert len(geography.region_boundaries()) == 9
