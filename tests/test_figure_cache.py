"""The figure cache: a figure is keyed by its content, the same in every process; a figure
drawn before is not drawn again; any change draws it again; no memo folder, no cache."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from evidence_pack import config  # noqa: E402
from evidence_pack.charts import figure_cache, legibility  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

MAKE = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

def make(y=(3, 1, 2), title="Households by year"):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([2019, 2020, 2021], list(y), marker="o", label="target areas")
    ax.scatter([2019, 2021], [1, 2], s=[20, 40], c=["#123456", "#abcdef"])
    ax.annotate("peak", xy=(2019, 3), xytext=(2020, 2.8), arrowprops={"arrowstyle": "->"})
    ax.set_title(title)
    ax.legend()
    return fig
"""
_NS: dict = {}
exec(MAKE, _NS)
make = _NS["make"]


@pytest.fixture
def memo(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path / "memo"))
    draws: list[int] = []
    real = legibility.print_height_mm
    monkeypatch.setattr(legibility, "print_height_mm", lambda fig: (draws.append(1), real(fig))[1])
    yield draws
    plt.close("all")


def test_the_key_is_the_same_in_every_process():
    code = MAKE + ("from evidence_pack.charts import figure_cache\n"
                   "print(figure_cache.figure_key(make()))\n")
    env = {**os.environ, "PYTHONPATH": str(config.ROOT / "lib")}
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env).stdout.strip() for _ in range(2)}
    assert len(keys) == 1 and len(keys.pop()) == 64


def test_a_figure_drawn_before_is_read_not_drawn(memo):
    first = figure_cache.drawn(make())
    again = figure_cache.drawn(make())  # another figure object, the same content
    assert memo == [1] and again == first
    fig = make()
    assert first == (legibility.print_height_mm(fig),
                     legibility.problems(fig, legibility.print_height_mm(fig)),
                     legibility.tight_png(fig))


@pytest.mark.parametrize("change", [{"y": (3, 1, 2.01)}, {"title": "Households by year "}])
def test_any_change_draws_again(memo, change):
    a = figure_cache.drawn(make())
    b = figure_cache.drawn(make(**change))
    assert len(memo) == 2 and a[2] != b[2]


def test_settings_are_part_of_the_key(memo):
    plain = figure_cache.figure_key(make())
    with plt.rc_context({"lines.antialiased": False}):
        assert figure_cache.figure_key(make()) != plain


def test_without_a_memo_folder_or_a_picklable_figure_every_figure_is_drawn(memo, monkeypatch):
    fig = make()
    fig.axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f} homes"))
    assert figure_cache.figure_key(fig) is None
    figure_cache.drawn(fig)
    figure_cache.drawn(fig)
    monkeypatch.delenv("EVIDENCE_PACK_MEMO_DIR")
    figure_cache.drawn(make())
    figure_cache.drawn(make())
    assert len(memo) == 4
