"""An area's evaluation report uses its own neighbourhoods only (``all_areas: false`` in
reports.yml): when another area loses an LSOA, every figure, table and finding of the area's
report stays the same, so the build does not run it again. The district's untargeted
neighbourhoods (which do change) are shown in the borough report only."""

from __future__ import annotations

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from evidence_pack import config  # noqa: E402
from evidence_pack.analysis import areas, evaluation  # noqa: E402
from evidence_pack.analysis.evaluation_panel import CONTEXT_DISTRICT_D1  # noqa: E402
from evidence_pack.charts import evaluation as charts  # noqa: E402
from evidence_pack.charts.figure_cache import figure_key  # noqa: E402
from evidence_pack.findings import evaluation as findings  # noqa: E402
from evidence_pack.findings import evaluation_tables as tables  # noqa: E402
from evidence_pack.publish import plan  # noqa: E402

pytestmark = pytest.mark.mirror


def _area_rows(res: dict[str, pd.DataFrame], slug: str) -> dict[str, pd.DataFrame]:
    """What the area's report reads of the evaluation frames."""
    traj = res["trajectories"]
    return {
        "matches": res["matches"][res["matches"]["area_slug"] == slug],
        "balance": res["balance"][res["balance"]["group"] == slug],
        "did": res["did"][res["did"]["group"] == slug],
        "trajectories": traj[traj["group"].isin([slug, f"{slug}__comparators"])],
        "monitoring": res["monitoring"][res["monitoring"]["slug"] == slug],
    }


@pytest.fixture(scope="module")
def two_memberships(processed):
    """Rotherham's areas, and the same with one LSOA dropped from the first area that has
    more than one: the evaluation frames of each."""
    a = areas.load_areas()
    big = next(x for x in a.areas if len(x.lsoas) > 1)
    b = replace(a, areas=[replace(x, lsoas=x.lsoas[1:]) if x is big else x for x in a.areas])
    return a, big.slug, evaluation.run(a.members_only()), evaluation.run(b.members_only())


def test_another_areas_lsoa_changes_nothing_in_an_areas_report(two_memberships):
    aset, changed, before, after = two_memberships
    names = {x.slug: x.name for x in aset.areas}
    others = [s for s in aset.slugs if s != changed]
    assert len(others) >= 10
    for slug in others:
        old, new = _area_rows(before, slug), _area_rows(after, slug)
        for key, frame in old.items():
            assert len(frame), (slug, key)
            pd.testing.assert_frame_equal(new[key].reset_index(drop=True),
                                          frame.reset_index(drop=True), check_exact=True,
                                          obj=f"{slug} {key}")
        assert (findings.key_findings(before, slug, names, aset.la_name)
                == findings.key_findings(after, slug, names, aset.la_name))
        pd.testing.assert_frame_equal(tables.did_table(before, slug),
                                      tables.did_table(after, slug), check_exact=True)
        figs = [charts.plot_trajectories(r, slug, f"{names[slug]}: IMD position by release")
                for r in (before, after)]
        assert figure_key(figs[0]) == figure_key(figs[1]) is not None, slug
        plt.close("all")
    # the changed area's own report and the district's context do change
    assert not _area_rows(before, changed)["trajectories"].equals(
        _area_rows(after, changed)["trajectories"])
    ctx = "group == @CONTEXT_DISTRICT_D1 and measure == 'imd'"
    assert not before["context"].query(ctx).equals(after["context"].query(ctx))


def test_the_district_context_is_in_the_borough_report_only(two_memberships):
    aset, changed, before, _ = two_memberships
    names = {x.slug: x.name for x in aset.areas}
    district = findings.key_findings(before, "all", names, aset.la_name)
    assert any(f.startswith("For context") and "not targeted" in f for f in district)
    area = findings.key_findings(before, changed, names, aset.la_name)
    assert not any("not targeted" in f for f in area)
    labels = {}
    for group in ("all", changed):
        fig = charts.plot_trajectories(before, group, "IMD position by release")
        labels[group] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        plt.close(fig)
    district_line = tables.CONTEXT_LABELS[CONTEXT_DISTRICT_D1]
    assert district_line in labels["all"] and district_line not in labels[changed]
    assert len(labels[changed]) == len(labels["all"]) - 1  # the region's line stays


def test_reports_yml_runs_an_areas_evaluation_for_its_own_area_only():
    spec = next(s for s in plan.load_specs(config.NOTEBOOKS_DIR) if s.name == "evaluation")
    assert spec.all_areas == "none"
