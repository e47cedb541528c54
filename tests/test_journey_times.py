"""The DfT Journey Time Statistics 2015 reader (catalogue d15avgm)."""

from __future__ import annotations

import pytest
from evidence_pack.sources import catalogue, journey_times
from evidence_pack.sources.io import DataError

HEADER = ('"LSOA_code","Region","LA_Code","LA_Name","Empl_pop","AVG_Public Transport/Walking",'
          '"AVG_Cycle","AVG_Car"\n')


def test_reads_the_published_layout(tmp_path):
    p = tmp_path / "D15AVGm.csv"
    p.write_text(HEADER + '"E01000001","London","E09000001","City of London",1263,10.1,8.9,8.2\n'
                 '"E01000002","London","E09000001","City of London",1063,11.5,9.2,9.1\n')
    t = journey_times.read(p)
    assert t["lsoa_code"].tolist() == ["E01000001", "E01000002"]
    assert t["services_pt_minutes"].tolist() == [10.1, 11.5]
    assert t["services_car_minutes"].tolist() == [8.2, 9.1]


@pytest.mark.parametrize("body, problem", [
    ('"E01000001","L","E09000001","C",1,abc,1,1\n', "row 1"),
    ('"E01000001","L","E09000001","C",1,-3,1,1\n', "non-negative"),
    ('"E01000001","L","E09000001","C",1,3,1,1\n"E01000001","L","E09000001","C",1,3,1,1\n',
     "appears twice"),
])
def test_bad_rows_name_file_and_row(tmp_path, body, problem):
    p = tmp_path / "bad.csv"
    p.write_text(HEADER + body)
    with pytest.raises(DataError) as e:
        journey_times.read(p)
    assert "bad.csv" in str(e.value) and problem in str(e.value)


def test_missing_column(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text('"LSOA_code","LA_Code"\n"E01000001","E09000001"\n')
    with pytest.raises(DataError, match="AVG_Public Transport/Walking"):
        journey_times.read(p)


@pytest.mark.mirror
def test_every_2011_lsoa(raw_data):
    t = journey_times.read(catalogue.path_for(journey_times.DATASET_ID))
    assert len(t) == 32_844 and t["lsoa_code"].is_unique
    assert t["services_pt_minutes"].between(1, 200).all()
    # public transport/walking takes longer than the car on average
    assert t["services_pt_minutes"].mean() > t["services_car_minutes"].mean()
