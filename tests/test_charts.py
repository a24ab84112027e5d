"""Charts: every chart function draws a non-empty PNG and SVG from small real runs, and skips
quietly when its data is absent."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.charts import (
    draw_cost, draw_distribution, draw_percentiles, draw_radar, draw_saturation,
    draw_scalability, draw_startup, draw_timeseries, load_runs,
)
from simulator.charts.look import assign_colours
from simulator.charts.saturation import knee
from simulator.results.families import fit_usl, usl
from simulator.errors import ArchsimError
from simulator.scorecard import build_scorecard

from test_charts_support import measured_run, reported_run, styles_run, sweep_run


@pytest.fixture(scope="session")
def root(tmp_path_factory):
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session")
def sweep(root):
    return load_runs(sweep_run(root))


@pytest.fixture(scope="session")
def styles(root):
    return load_runs(styles_run(root))


def assert_images(paths, stem):
    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()


@pytest.mark.parametrize("draw, stem", [
    (draw_percentiles, "latency-percentiles"),
    (draw_distribution, "latency-cdf"),
    (draw_saturation, "saturation"),
    (draw_scalability, "scalability-usl"),
    (draw_cost, "utilisation"),  # the engine alone records no cost: the file is named for what it shows
])
def test_each_comparison_chart_draws_png_and_svg_from_a_real_run(sweep, tmp_path, draw, stem):
    assert_images(draw(sweep, tmp_path), stem)


def test_time_series_chart_is_drawn_per_variant(sweep, tmp_path):
    assert_images(draw_timeseries(sweep[0], tmp_path), "timeseries-load-50")


def test_startup_chart_needs_platform_extras(sweep, styles, tmp_path):
    assert draw_startup(sweep, tmp_path) == []  # the engine alone records no start-ups: skipped, no error
    assert_images(draw_startup(styles, tmp_path), "startup-breakdown")


def test_radar_shows_measured_and_published_stars(styles, tmp_path):
    assert_images(draw_radar(build_scorecard(styles), tmp_path), "scorecard-radar")


def test_cost_chart_is_named_cost_only_when_runs_record_cost(styles, tmp_path):
    assert_images(draw_cost(styles, tmp_path), "cost-utilisation")


@pytest.fixture
def figures(monkeypatch):
    """The figures chart functions draw, kept open instead of saved."""
    import matplotlib.pyplot as plt

    from simulator.charts import radar, timeseries

    kept = []

    def keep(fig, _out_dir, _stem):
        kept.append(fig)
        return []

    monkeypatch.setattr(timeseries, "save", keep)
    monkeypatch.setattr(radar, "save", keep)
    yield kept
    for fig in kept:
        plt.close(fig)


def test_radar_is_one_small_radar_per_variant_with_the_legend_below_and_labels_in_the_figure(styles, tmp_path, figures):
    draw_radar(build_scorecard(styles), tmp_path)
    [fig] = figures
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    page = fig.bbox
    radars = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in radars] == [v.label for v in styles]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("simulated:") and "Measured" not in " ".join(labels)  # a simulation is not a measurement
    for ax in radars:
        assert legend.y1 < ax.get_window_extent(renderer).y0  # below the circles
        for label in ax.get_xticklabels():
            box = label.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1, label.get_text()
            assert not box.overlaps(ax.title.get_window_extent(renderer)), label.get_text()


def _panel(fig, ylabel):
    return next(ax for ax in fig.axes if ax.get_ylabel().split("\n")[0] == ylabel)


def test_time_series_axes_start_at_zero_and_quiet_panels_are_left_out(sweep, tmp_path, figures):
    draw_timeseries(sweep[0], tmp_path)
    [fig] = figures
    assert _panel(fig, "requests/s").get_ylim()[0] == 0
    ylabels = [ax.get_ylabel() for ax in fig.axes]
    assert "instances" not in ylabels  # nothing scaled, started or failed: no panel of flat lines
    latency = _panel(fig, "latency (ms)")
    assert [t.get_text() for t in latency.get_legend().get_texts()] == ["p50", "p95", "p99"]


def test_dense_events_become_markers_on_a_strip_and_only_rare_important_ones_are_named(styles, tmp_path, figures):
    from dataclasses import replace

    from simulator.charts.events import split_events

    scale = [{"time_s": 5.0 + i, "kind": kind, "service": "api", "from_instances": 1, "to_instances": 2}
             for i, kind in enumerate(["scale_up", "startup", "scale_down"] * 6)]
    events = scale + [{"time_s": 4.0, "kind": "spike", "factor": 4.0, "duration_s": 10.0},
                      {"time_s": 8.0, "kind": "crash", "service": "api"},
                      {"time_s": 12.0, "kind": "rollout_start", "service": "api"},
                      {"time_s": 16.0, "kind": "rollout_end", "service": "api", "rolled_back": True, "duration_s": 4.0}]
    spans, moments = split_events(events)
    assert [(s.kind, s.start_s, s.end_s) for s in spans] == [("spike", 4.0, 14.0), ("rollout", 12.0, 16.0)]
    assert sorted({m.kind for m in moments}) == ["crash", "rollback", "scale_down", "scale_up", "startup"]

    variant = replace(styles[1], block={**styles[1].block, "events": events})
    draw_timeseries(variant, tmp_path)
    [fig] = figures
    strip = _panel(fig, "events")
    replications = variant.block["replications"]
    assert strip.get_ylabel() == ("events" if replications == 1 else f"events\n(replication\n1 of {replications})")
    named = sorted(t.get_text() for t in strip.texts)
    assert named == ["crash api", "rolled back api", "rollout api", "spike ×4"]  # never one label per scale event
    legend = [t.get_text() for t in strip.get_legend().get_texts()]
    assert {"scale up (6)", "scale down (6)", "start-up done (6)", "crash (1)", "rollback (1)"} <= set(legend)
    assert all(not ax.texts or ax is strip or ax.texts[0].get_text() == "warm-up" for ax in fig.axes)


def test_time_series_with_instance_states_and_events(styles, tmp_path):
    assert "starting.api" in styles[0].timeseries
    assert_images(draw_timeseries(styles[1], tmp_path), "timeseries-microservices")


def test_simulated_and_measured_runs_share_a_chart(root, tmp_path):
    both = load_runs([sweep_run(root), measured_run(root)])
    assign_colours(both)
    labels = [v.label for v in both]
    assert len(set(labels)) == len(labels) == 10
    assert "measured/load-50" in labels and "sweep/load-50" in labels
    assert len({v.colour for v in both}) == 10
    assert {v.source for v in both} == {"simulation", "measured"}
    assert_images(draw_percentiles(both, tmp_path), "latency-percentiles")
    assert_images(draw_distribution(both, tmp_path), "latency-cdf")


def test_a_variant_keeps_its_colour_across_charts(sweep):
    assert [v.colour for v in sweep] == [v.colour for v in load_runs(sweep[0].run_dir)]


def test_sweeps_are_found_from_the_resolved_scenarios(sweep):
    from simulator.charts.saturation import saturation_curves
    from simulator.results.families import scalability_sweeps

    [(label, curve)] = saturation_curves(sweep)
    assert [v.name for v in curve] == ["load-50", "load-100", "load-200"]
    [(_, members, fit)] = scalability_sweeps(sweep)
    assert sorted(fit.instances) == [1, 2, 4]


def test_knee_is_where_p95_reaches_twice_its_low_load_value():
    assert knee([100, 200, 300, 400], [0.010, 0.012, 0.030, 0.5]) == pytest.approx(200 + 100 * (0.020 - 0.012) / (0.030 - 0.012))
    assert knee([100, 200, 300], [0.010, 0.011, 0.012]) is None


def test_usl_fit_recovers_contention_and_coherency():
    n = np.array([1, 2, 4, 8, 16, 32])
    fit = fit_usl(list(n), list(usl(n, 100.0, 0.05, 0.002)))
    assert fit.lam == pytest.approx(100, rel=1e-3)
    assert fit.sigma == pytest.approx(0.05, abs=1e-3)
    assert fit.kappa == pytest.approx(0.002, abs=1e-4)
    assert fit.peak_instances == pytest.approx(((1 - 0.05) / 0.002) ** 0.5, rel=0.01)
    assert fit_usl([1, 2], [100, 190]) is None  # three parameters need three instance counts


def test_a_folder_without_summary_is_not_a_run_directory(tmp_path):
    with pytest.raises(ArchsimError, match="not a run directory \\(no summary.json\\)"):
        load_runs(tmp_path)


def test_draw_all_leaves_charts_and_report_in_the_run_directory(root):
    run_dir, made = reported_run(root)
    names = {p.name for p in made}
    assert {"report.html", "report.md", "latency-percentiles.png", "startup-breakdown.svg", "scorecard-radar.png"} <= names
    assert all(p.exists() and p.stat().st_size > 0 for p in made)
    assert all(p.parent == run_dir / "charts" for p in made if p.suffix in (".png", ".svg"))


def _capacity_figure(sweep, tmp_path, monkeypatch):
    from simulator.charts import saturation

    kept = []
    monkeypatch.setattr(saturation, "save", lambda fig, _out, _stem: kept.append(fig) or [])
    draw_saturation(sweep, tmp_path)
    return kept[0]


def test_an_overloaded_point_is_marked_as_a_p95_of_the_completed_requests_only(sweep, tmp_path, monkeypatch):
    """Requests still queued at the end are not in the p95: past 5% unfinished the point says so."""
    import matplotlib.pyplot as plt

    from simulator.charts import saturation

    def legend_texts(fig):
        legends = [*fig.legends, *[ax.get_legend() for ax in fig.axes if ax.get_legend()]]
        return [t.get_text() for legend in legends for t in legend.get_texts()]

    monkeypatch.setattr(saturation, "unfinished_fraction", lambda v: 0.01)
    fig = _capacity_figure(sweep, tmp_path, monkeypatch)
    assert any("knee" in t for t in legend_texts(fig)) and not any("unfinished" in t for t in legend_texts(fig))
    plt.close(fig)
    monkeypatch.setattr(saturation, "unfinished_fraction", lambda v: 0.2 if v.name == "load-200" else 0.01)
    fig = _capacity_figure(sweep, tmp_path, monkeypatch)
    assert sum("unfinished at the end" in t for t in legend_texts(fig)) == 1
    p95_panel = next(ax for ax in fig.axes if ax.get_title() == "p95 vs offered load")
    markers = [c for c in p95_panel.collections if c.get_offsets().shape[0] and c.get_zorder() == 5]
    assert [len(c.get_offsets()) for c in markers] == [1]  # load-200 only
    plt.close(fig)
