"""The main job's charts looked at as a reader would: the pixels, not only the PNG header.

Every chart of ``scenarios/styles-baseline.yaml`` is drawn once; the tests then read the images
back (is the plot area drawn on, does every variant's colour show) and the figures' legends (one
entry per series, never over the data). The same run feeds the report test (headless Chromium).
"""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from simulator.charts import draw_charts, draw_distribution, draw_percentiles, draw_timeseries, load_runs
from simulator.charts.look import PALETTE, assign_colours

from test_charts_support import main_job_run


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    variants = load_runs(main_job_run(tmp_path_factory.getbasetemp()))
    made = draw_charts(variants, tmp_path_factory.mktemp("main-job-charts"))
    return variants, {p.stem: p for p in made if p.suffix == ".png"}


def pixels(path):
    return matplotlib.image.imread(path)[:, :, :3]


def share_of_colour(image, colour: str, tolerance: float = 0.03) -> float:
    """Share of the image's pixels within ``tolerance`` (per channel) of ``colour``."""
    from matplotlib.colors import to_rgb

    return float(np.all(np.abs(image - np.array(to_rgb(colour))) <= tolerance, axis=2).mean())


def test_every_chart_of_the_main_job_is_drawn_on(main_job):
    variants, charts = main_job
    expected = {"latency-percentiles", "latency-cdf", "cost-utilisation", "scorecard-radar", "startup-breakdown"}
    assert expected | {f"timeseries-{v.label}" for v in variants} <= set(charts)
    for stem, path in charts.items():
        image = pixels(path)
        height, width, _ = image.shape
        plot = image[height // 10: height * 9 // 10, width // 10: width * 9 // 10]
        inked = float((plot.min(axis=2) < 0.9).mean())
        assert inked > 0.03, (stem, inked)  # not an empty frame


@pytest.mark.parametrize("stem", ["latency-percentiles", "latency-cdf", "cost-utilisation", "scorecard-radar"])
def test_every_variant_shows_in_its_own_colour(main_job, stem):
    variants, charts = main_job
    image = pixels(charts[stem])
    assert len({v.colour for v in variants}) == len(variants)
    for variant in variants:
        assert share_of_colour(image, variant.colour) > 0.0004, (stem, variant.label, variant.colour)


def test_a_style_has_one_colour_in_every_chart_and_twelve_series_stay_distinct(main_job):
    variants, _ = main_job
    assert {v.label: v.colour for v in variants}["monolith"] == PALETTE[0]
    from dataclasses import replace

    many = [replace(variants[0], name=f"v{i}", label=f"v{i}", block={**variants[0].block, "extras": {}}) for i in range(26)]
    assign_colours(many)
    firsts = [(v.colour, v.linestyle) for v in many[:12]]
    assert len({c for c, _ in firsts}) == 12  # twelve distinct colours before any repeats
    assert len({(v.colour, v.linestyle) for v in many}) == 26  # beyond, the line style tells them apart


@pytest.fixture
def figures(monkeypatch):
    import matplotlib.pyplot as plt

    from simulator.charts import distribution, percentiles, timeseries

    kept = []

    def keep(fig, _out_dir, _stem):
        fig.canvas.draw()
        kept.append(fig)
        return []

    for module in (distribution, percentiles, timeseries):
        monkeypatch.setattr(module, "save", keep)
    yield kept
    for fig in kept:
        plt.close(fig)


def test_cdf_legend_has_one_entry_per_variant_outside_the_plot_and_names_twins(main_job, figures, tmp_path):
    variants, _ = main_job
    draw_distribution(variants, tmp_path)
    [fig] = figures
    [ax] = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(texts) == len(variants)
    assert "microkernel (= monolith)" in texts  # the same curve: drawn dashed on top, and said so
    renderer = fig.canvas.get_renderer()
    assert not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert {"1", "10", "100"} <= set(ticks) and not any("$" in t or "^" in t for t in ticks)  # never 10⁰, 10¹


def test_percentiles_name_each_variant_once_without_a_legend(main_job, figures, tmp_path):
    variants, _ = main_job
    draw_percentiles(variants, tmp_path)
    [fig] = figures
    first = fig.axes[0]
    assert [t.get_text() for t in first.get_yticklabels()] == [v.label for v in variants]
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert "95% confidence interval" in fig.texts[-1].get_text()


def test_time_series_legends_stay_short_and_no_panel_is_empty(main_job, figures, tmp_path):
    variants, _ = main_job
    micro = next(v for v in variants if v.label == "microservices")
    draw_timeseries(micro, tmp_path)
    [fig] = figures
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            assert len(legend.get_texts()) <= 8, ax.get_ylabel()
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
        if not ax.get_ylabel().startswith("events"):
            assert any(len(line.get_xdata()) > 1 for line in ax.get_lines()), ax.get_ylabel()
    instances = next(ax for ax in fig.axes if ax.get_ylabel() == "instances")
    labels = [t.get_text() for t in instances.get_legend().get_texts()]
    assert labels[0] == "payment ready" and labels[-1] == "+ 12 other services (steady)"
