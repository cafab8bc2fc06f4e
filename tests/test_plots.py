"""Plots (bprop.plots) and the HTML report (bprop.report) of a saved run."""

import base64
import html.parser
import importlib.util
import os
import shutil
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bprop import Network, TrainConfig, train
from bprop.datasets import Dataset
from bprop.diagnostics import Diagnostics
from bprop.io import save, save_history

HAVE_MPL = importlib.util.find_spec("matplotlib") is not None

needs_mpl = pytest.mark.skipif(not HAVE_MPL, reason="needs matplotlib (pip install bprop[plots])")

ALL_PLOTS = ["learning_curves", "gradient_norms", "saturation", "first_layer_weights",
             "confusion_matrix", "most_wrong"]


def _tiny_dataset(name="tiny"):
    """Ten classes of noisy 6x5 "images": class c lights up pixel block c."""
    rng = np.random.default_rng(0)

    def make(n):
        y = rng.integers(0, 10, n)
        X = rng.random((n, 30)) * 0.3
        X[np.arange(n), y * 3] += 0.7
        return X, y

    (X_tr, y_tr), (X_val, y_val), (X_te, y_te) = make(300), make(60), make(80)
    return Dataset(name, X_tr, y_tr, X_val, y_val, X_te, y_te, 10, (6, 5))


def _save_run(path, *, dataset_name="no-such-dataset", diagnostics=True, net=None):
    ds = _tiny_dataset()
    net = net or Network([30, 12, 10], init="scaled-normal", rng=0)
    config = TrainConfig(epochs=3, mini_batch_size=10, eta=3.0)
    h = train(net, ds.X_train, ds.y_train, config, validation=(ds.X_val, ds.y_val),
              test=(ds.X_test, ds.y_test), callbacks=[Diagnostics(every=2)] if diagnostics else [])
    save(net, path, config=config, history=h,
         extra={"dataset": {"name": dataset_name, "validation": 60, "image_shape": [6, 5],
                            "n_classes": 10}})
    return ds, h


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "model.npz"
    ds, _ = _save_run(path)
    return path, ds


@pytest.fixture(scope="module")
def plotted(run, tmp_path_factory):
    from bprop.plots import plot_run

    path, ds = run
    out_dir = tmp_path_factory.mktemp("plots") / "plots"
    return out_dir, plot_run(path, out_dir=out_dir, dataset=ds)


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    from bprop.report import write_report

    path, ds = run
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert write_report(path, out, dataset=ds) == out
    return out


def _read_png(path_or_bytes):
    import matplotlib.image
    import io

    if isinstance(path_or_bytes, bytes):
        path_or_bytes = io.BytesIO(path_or_bytes)
    return matplotlib.image.imread(path_or_bytes, format="png")


def _check_png(image, expected=None):
    from bprop.plots import PIXELS

    assert image.shape[:2] == (expected or PIXELS)
    assert image.shape[2] in (3, 4)
    assert image[..., :3].std() > 0.01          # not blank
    assert _n_colours(image) > 20


def _n_colours(image):
    rgb = (image[..., :3] * 255).astype(np.uint32)
    return len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]))


# -- plots ---------------------------------------------------------------------------------------
@needs_mpl
def test_plot_run_with_a_dataset_writes_every_plot(plotted):
    out_dir, paths = plotted
    assert [p.name for p in paths] == [f"{name}.png" for name in ALL_PLOTS]
    for p in paths:
        assert p.parent == out_dir
        _check_png(_read_png(p))
    assert sorted(os.listdir(out_dir)) == sorted(p.name for p in paths)     # no temporaries


@needs_mpl
def test_plot_run_skips_data_plots_when_the_dataset_cannot_be_loaded(run):
    from bprop.plots import plot_run

    path, _ = run
    with pytest.warns(UserWarning, match="skipped: cannot load the data set 'no-such-dataset'"):
        paths = plot_run(path)
    assert paths[0].parent == path.with_name("model-plots")          # the default out_dir
    assert [p.stem for p in paths] == ALL_PLOTS[:4]


@needs_mpl
def test_plot_run_reloads_the_dataset_named_in_the_header(tmp_path):
    pytest.importorskip("sklearn")
    from bprop.datasets import load
    from bprop.plots import plot_run

    digits = load("digits")
    net = Network([64, 10, 10], init="scaled-normal", rng=0)
    config = TrainConfig(epochs=1, mini_batch_size=10, eta=3.0)
    h = train(net, digits.X_train, digits.y_train, config)
    save(net, tmp_path / "digits.npz", config=config, history=h,
         extra={"dataset": {"name": "digits", "validation": 0, "image_shape": [8, 8],
                            "n_classes": 10}})
    # no diagnostics in this history: the per-layer plots are left out, with a note
    with pytest.warns(UserWarning, match="per-layer plots skipped"):
        paths = plot_run(tmp_path / "digits.npz", out_dir=tmp_path / "out")
    assert [p.stem for p in paths] == ["learning_curves", "first_layer_weights",
                                       "confusion_matrix", "most_wrong"]


@needs_mpl
def test_history_beside_the_model_is_used(tmp_path):
    from bprop.plots import load_run

    ds = _tiny_dataset()
    net = Network([30, 12, 10], rng=0)
    h = train(net, ds.X_train, ds.y_train, TrainConfig(epochs=2, eta=1.0),
              callbacks=[Diagnostics()])
    save(net, tmp_path / "m.npz")
    save_history(h, tmp_path / "m.npz")
    assert load_run(tmp_path / "m.npz").history.to_dict() == h.to_dict()


def test_confusion_counts_and_most_wrong():
    from bprop.plots import confusion_counts, most_wrong

    counts = confusion_counts([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    net = Network([2, 2])
    net.weights[0] = np.array([[1.0, 0.0], [0.0, 1.0]])
    net.biases[0] = np.zeros((2, 1))
    X = np.array([[5.0, 0.0], [0.0, 5.0], [0.5, 0.0], [3.0, 0.0]])
    # all say "class 0" except row 1; rows 0 and 3 are wrong, row 0 the more confidently
    assert most_wrong(net, X, [1, 1, 1, 1]).tolist() == [0, 3, 2]
    assert most_wrong(net, X, [0, 1, 0, 0]).tolist() == []


@needs_mpl
def test_figures_need_what_they_show(run):
    from bprop import DataError, plots
    from bprop.train import History

    with pytest.raises(DataError, match="no diagnostics"):
        plots.gradient_norms_figure(History())
    with pytest.raises(DataError, match=r"image_shape \(5, 5\) has 25 pixels; the network "
                                        r"takes 30 inputs"):
        plots.weights_figure(Network([30, 3, 2]), (5, 5))


def test_missing_matplotlib_says_how_to_install_it(monkeypatch):
    from bprop import plots

    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install bprop\[plots\]"):
        plots.learning_curves_figure([])


# -- the HTML report -----------------------------------------------------------------------------
class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        for key in ("href", "src"):             # nothing outside the page
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")) or Path(value).exists(), value

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    page = _Page()
    page.feed(Path(path).read_text(encoding="utf-8"))
    page.close()
    return page, " ".join(page.text)


@needs_mpl
def test_report_is_one_self_contained_page(report):
    page, text = _parse(report)
    assert page.tags.count("img") == len(ALL_PLOTS) == len(page.images)
    for src in page.images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        _check_png(_read_png(base64.b64decode(data)))
    for words in ("[30, 12, 10]", "quadratic", "mini_batch_size", "no-such-dataset",
                  "‖∂C/∂b‖ layer 2", "warnings", "test acc.", "30-12-10 on no-such-dataset"):
        assert words in text
    assert "link" not in page.tags and "script" not in page.tags


@needs_mpl
def test_report_default_path_warnings_and_escaping(tmp_path):
    from bprop.report import write_report

    path = tmp_path / "run<b>&.npz"
    net = Network([30, 12, 10], init="scaled-normal", rng=0)
    net.weights[1] = np.abs(net.weights[1]) * 10        # outputs start saturated near 1
    net.biases[1][...] = 10.0
    _save_run(path, net=net)
    out = write_report(path)
    assert out == tmp_path / "run<b>&-report.html"
    raw = out.read_text(encoding="utf-8")
    assert "run&lt;b&gt;&amp;" in raw and "run<b>" not in raw
    page, text = _parse(out)
    assert "Learning is slowed by saturated output neurons" in text
    assert "skipped: cannot load the data set" in text
    assert page.tags.count("img") == 4


def test_report_without_matplotlib(monkeypatch, tmp_path):
    from bprop.report import write_report

    _save_run(tmp_path / "m.npz", diagnostics=False)
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    page, text = _parse(write_report(tmp_path / "m.npz"))
    assert page.images == []
    assert "pip install bprop[plots]" in text
    assert "no per-layer diagnostics" in text


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@needs_mpl
@pytest.mark.skipif(_chromium() is None, reason="needs headless Chromium")
def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
           "--window-size=1000,3000", f"--screenshot={shot}", report.as_uri()]
    try:
        subprocess.run(cmd, capture_output=True, timeout=90, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("Chromium did not finish in 90 s")
    assert shot.exists(), "Chromium wrote no screenshot"
    image = _read_png(shot)
    assert image.shape[:2] == (3000, 1000)
    # text, tables and plots: many colours, and plots below the summary
    assert _n_colours(image) > 500
    assert image[1000:2000, :, :3].std() > 0.05


def test_the_report_puts_its_summary_and_plots_first(report, tmp_path):
    """Laid out by a real browser: the summary card, then the first plot within the first
    screen, the settings and history folded; nothing outside the page is fetched."""
    page = report.read_text()
    probe = ('<script>addEventListener("load", () => {const f = document.querySelector("figure");'
             'document.body.dataset.plot = Math.round(f.getBoundingClientRect().top + scrollY);'
             'document.body.dataset.height = document.documentElement.scrollHeight;});</script>')
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", probe + "</body>"))
    profile = tmp_path / "profile"
    profile.mkdir()
    done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={profile}", "--window-size=1280,900",
                           "--virtual-time-budget=3000", "--dump-dom", measured.as_uri()],
                          capture_output=True, text=True, timeout=90)
    found = re.search(r'data-plot="(\d+)" data-height="(\d+)"', done.stdout)
    assert found, done.stderr[-500:]
    first_plot, height = map(int, found.groups())
    assert first_plot < 900 and height < 4000         # it was 2,493 and 5,693 px
    assert page.index('id="summary"') < page.index("<figure") < page.index("<details>")
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize("early_stopping,holds_best", [(True, True), (True, False), (False, True)])
def test_report_summary_quotes_the_saved_weights_accuracy(early_stopping, holds_best):
    """After early stopping the file holds the best epoch's weights: quote that epoch's test
    accuracy, not the last epoch's; but a checkpoint saved before the run ended holds the
    last epoch's weights, and then the last epoch's accuracy is the saved weights'."""
    from types import SimpleNamespace

    from bprop.report import run_summary
    from bprop.train import EpochRecord, History

    history = History(records=[EpochRecord(epoch=j, eta=1.0, seconds=0.1, val_accuracy=v,
                                           test_accuracy=t)
                               for j, (v, t) in enumerate([(0.5, 0.4), (0.9, 0.8),
                                                           (0.7, 0.6)])])
    history.best_epoch = 1
    net = Network([2, 3], rng=0)
    history.best_params = [p + (0 if holds_best else 1) for p in (*net.weights, *net.biases)]
    info = SimpleNamespace(net=net, dataset_info={}, history=history,
                           config={"early_stopping": early_stopping})
    text = run_summary(info)
    # the record of epoch 1 (from 0) is the second epoch: the report counts from 1, as the
    # command line does
    if early_stopping and holds_best:
        assert "the saved weights' (epoch 2, restored by early stopping) test accuracy " \
               "80.00%" in text
    else:
        assert "final test accuracy 60.00% (best validation epoch 2)" in text
    # the card says which epoch "final" is, not "at the end" (the saved weights may be
    # another epoch's)
    from bprop.report import summary_card
    card = summary_card(info, [])
    assert "test accuracy</b> 60.00% in the last epoch (3), best 80.00% (epoch 2)" in card


def test_report_of_an_early_stopping_file_saved_before_and_after_the_end(tmp_path):
    """End to end through the model file: a checkpoint saved mid-run holds the last epoch's
    weights; the file saved after early stopping holds the best epoch's."""
    from bprop import save
    from bprop.plots import load_run
    from bprop.report import run_summary
    from bprop.train import History
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 4)), (np.arange(60) % 3)
    net = Network([4, 5, 3], rng=0)
    config = TrainConfig(epochs=12, mini_batch_size=5, eta=8.0, early_stopping=True, patience=12)

    def checkpoint(record):
        save(net, tmp_path / "mid.npz", config=config, history=history, epoch=record.epoch + 1)
    history = History()
    history = train(net, X, y, config, validation=(X[:20], y[:20]), test=(X, y),
                    history=history, on_epoch_end=checkpoint)
    assert history.best_epoch < 11, "the test needs a best epoch before the last"
    save(net, tmp_path / "end.npz", config=config, history=history, epoch=12)
    assert "restored by early stopping" in run_summary(load_run(tmp_path / "end.npz"))
    assert "; final test accuracy" in run_summary(load_run(tmp_path / "mid.npz"))


@needs_mpl
def test_plots_and_report_count_epochs_from_1_as_the_command_line_does():
    from bprop.plots import learning_curves_figure
    from bprop.report import history_table
    from bprop.train import EpochRecord
    records = [EpochRecord(epoch=j, eta=1.0, seconds=0.1, train_cost=1.0 / (j + 1))
               for j in range(3)]
    fig = learning_curves_figure(records)
    assert list(fig.axes[0].lines[0].get_xdata()) == [1, 2, 3]
    table = history_table(records)
    assert "<tr><td>1</td>" in table and "<tr><td>3</td>" in table
    assert "<tr><td>0</td>" not in table


def _diag_record(epoch, grad_b, grad_w, dead):
    from bprop.train import EpochRecord
    return EpochRecord(epoch=epoch, eta=1.0, seconds=0.1, train_cost=0.5, diagnostics=dict(
        layers=[2, 3], activations=["relu", "softmax"], grad_b=grad_b, grad_w=grad_w,
        saturated=[None, 0.1], dead=[dead, None], output_saturated_wrong=0.0,
        saturation_threshold=0.1))


@needs_mpl
def test_zero_gradients_are_marked_on_the_log_scale_not_dropped():
    from bprop.plots import gradient_norms_figure
    records = [_diag_record(0, [0.3, 0.5], [0.2, 0.4], 0.1),
               _diag_record(1, [0.0, 0.4], [0.0, 0.0], 1.0),
               _diag_record(2, [0.0, 0.2], [0.0, 0.0], 1.0)]
    ax = gradient_norms_figure(records).axes[0]
    marks = [line for line in ax.lines if line.get_marker() == "v" and len(line.get_xdata())]
    assert sorted(tuple(line.get_xdata()) for line in marks) == [(2, 3), (2, 3), (2, 3)]
    # one row each, near the bottom edge, so that no layer's marks hide another's
    rows = [line.get_ydata()[0] for line in marks]
    assert len(set(rows)) == 3 and all(0 < y < 0.2 for y in rows)
    assert all(line.get_transform() == ax.get_xaxis_transform() for line in marks)
    assert [line.get_fillstyle() for line in marks] == ["full", "none", "none"]    # b, w, w
    assert "0 (no gradient): ▼ b, ▽ w" in [t.get_text() for t in ax.get_legend().get_texts()]
    # every norm 0: still a figure, the marks on an arbitrary range
    ax = gradient_norms_figure([_diag_record(0, [0.0, 0.0], [0.0, 0.0], 1.0)]).axes[0]
    assert sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() == "v") == 4


@needs_mpl
def test_one_epoch_plots_show_every_series_at_epoch_1():
    from bprop.plots import gradient_norms_figure, learning_curves_figure, saturation_figure
    records = [_diag_record(0, [0.3, 0.5], [0.2, 0.4], 0.1)]
    for fig in (gradient_norms_figure(records), saturation_figure(records),
                learning_curves_figure(records)):
        ax = fig.axes[0]
        assert list(ax.get_xticks()) == [1]
        assert all(line.get_marker() not in (None, "None", "") for line in ax.lines
                   if len(line.get_xdata()))


@needs_mpl
def test_a_model_whose_outputs_overflow_still_gets_its_other_plots(tmp_path):
    from bprop import save
    from bprop.plots import run_figures
    rng = np.random.default_rng(0)
    X = rng.random((30, 4))
    np.savez(tmp_path / "d.npz", X=X, y=np.arange(30) % 3)
    net = Network([4, 5, 3], "relu", output="identity", rng=0)
    net.weights = [w * 1e200 for w in net.weights]
    save(net, tmp_path / "big.npz", extra={"dataset": {"name": str(tmp_path / "d.npz")}})
    figures, notes = run_figures(tmp_path / "big.npz")
    assert any("confusion matrix and most-wrong images skipped: the network's outputs "
               "overflow" in n for n in notes)


@needs_mpl
def test_run_figures_skips_only_overflow_not_bad_data(tmp_path):
    """Bad test data passed in from Python is still an error, not a quiet note."""
    from bprop import DataError, save
    from bprop.datasets import Dataset
    from bprop.plots import run_figures
    save(Network([4, 3], rng=0), tmp_path / "m.npz")
    X = np.full((5, 4), 0.5)
    X[0, 0] = np.nan
    ds = Dataset("mine", X, np.zeros(5, int), None, None, X, np.zeros(5, int), 3, None)
    with pytest.raises(DataError, match=r"X contains 1 NaN \(first in row 0\)"):
        run_figures(tmp_path / "m.npz", dataset=ds)


# -- arguments refused at the boundary (fuzzing review) ----------------------------------------
def _net_and_data():
    net = Network([30, 12, 10], rng=0)
    X = np.random.default_rng(0).random((40, 30))
    return net, X, np.arange(40) % 10


@needs_mpl
@pytest.mark.parametrize("shift,error,words", [
    (3, "DataError", r"labels must be integers in \[0, 10\); got min=3, max=12"),
    (-1, "DataError", r"labels must be integers in \[0, 10\); got min=-1, max=8"),
    (0.5, "DataError", "labels must be integers; got non-integer values"),
])
def test_confusion_figure_names_bad_labels(shift, error, words):
    from bprop import errors, plots

    net, X, y = _net_and_data()
    with pytest.raises(getattr(errors, error), match=words):
        plots.confusion_figure(net, X, y + shift)


@needs_mpl
def test_confusion_figure_checks_lengths_classes_and_names():
    from bprop import ConfigError, DataError, ShapeError, plots

    net, X, y = _net_and_data()
    with pytest.raises(ShapeError, match=r"y has shape \(5,\); expected \(40,\) labels"):
        plots.confusion_figure(net, X, y[:5])
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 5\)"):
        plots.confusion_figure(net, X, y, n_classes=5)
    with pytest.raises(ConfigError, match="class_names must be a list of 10 names"):
        plots.confusion_figure(net, X, y, class_names=["a", "b"])
    plots.confusion_figure(net, X, y, n_classes=12)         # more classes than outputs: fine
    # fewer classes than outputs (a [.., 10] net on labels 0-2): fine while it predicts them
    net.biases[-1][3:] = -50.0
    plots.confusion_figure(net, X, y % 3, n_classes=3)
    net.biases[-1][7] = 50.0
    with pytest.raises(DataError, match="the network predicts class 7, beyond n_classes=3"):
        plots.confusion_figure(net, X, y % 3, n_classes=3)


def test_most_wrong_refuses_labels_outside_the_classes():
    from bprop import ConfigError, DataError, plots

    net, X, y = _net_and_data()
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 10\); got min=3, max=12"):
        plots.most_wrong(net, X, y + 3)
    # -1 would silently index the last class
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 10\); got min=-1"):
        plots.most_wrong(net, X, y - 1)
    with pytest.raises(ConfigError, match="k must be an integer >= 1; got 0"):
        plots.most_wrong(net, X, y, k=0)


@needs_mpl
@pytest.mark.parametrize("shape", [(30,), (4,), (5, 6, 1), None, (6.0, 5), "ab"])
def test_figures_refuse_an_image_shape_that_is_not_two_sides(shape):
    from bprop import ShapeError, plots

    net, X, y = _net_and_data()
    with pytest.raises(ShapeError, match=r"image_shape must be \(height, width\), two positive "
                                         r"integers; got "):
        plots.weights_figure(net, shape)
    with pytest.raises(ShapeError, match=r"image_shape must be \(height, width\)"):
        plots.most_wrong_figure(net, X, y, shape)


@needs_mpl
@pytest.mark.parametrize("max_tiles", [0, -1, 2.5])
def test_weights_figure_refuses_a_bad_max_tiles(max_tiles):
    from bprop import ConfigError, plots

    with pytest.raises(ConfigError, match="max_tiles must be an integer >= 1; got "):
        plots.weights_figure(Network([30, 12, 10], rng=0), (6, 5), max_tiles=max_tiles)


@needs_mpl
@pytest.mark.parametrize("history", [None, [1, 2], "abc", {"a": 1}])
def test_learning_curves_need_a_history(history):
    from bprop import ConfigError, plots

    with pytest.raises(ConfigError, match=r"learning_curves_figure needs a History \(or its "
                                          r"to_dict\(\), or a list of its records\); got "):
        plots.learning_curves_figure(history)


@needs_mpl
def test_per_layer_figures_name_missing_diagnostics(run):
    from bprop import DataError, plots

    record = {"epoch": 0, "eta": 1.0, "seconds": 1.0, "diagnostics": {"layers": [2, 3]}}
    with pytest.raises(DataError, match="the diagnostics of epoch 0 have no 'grad_b'"):
        plots.gradient_norms_figure([record])
    with pytest.raises(DataError, match="the diagnostics of epoch 0 have no 'activations'"):
        plots.saturation_figure({"records": [record]})
    record["diagnostics"].update(grad_b=[0.1], grad_w=[0.1, 0.2])
    with pytest.raises(DataError, match=r"'grad_b' must be a list of numbers, one per layer \(2\)"):
        plots.gradient_norms_figure([record])
    # a list of record dicts is a history too
    record["diagnostics"].update(grad_b=[0.1, 0.3])
    plots.gradient_norms_figure([record])


@needs_mpl
def test_plot_run_takes_a_dataset_name_or_path(run, tmp_path):
    from bprop import ConfigError
    from bprop.plots import plot_run

    path, ds = run
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=ds.X_train, y_train=ds.y_train, x_test=ds.X_test, y_test=ds.y_test)
    paths = plot_run(path, out_dir=tmp_path / "out", dataset=str(data))
    assert [p.stem for p in paths] == ALL_PLOTS
    with pytest.raises(ConfigError, match="dataset must be a bprop.datasets.Dataset, or a data "
                                          "set's name or path; got int"):
        plot_run(path, out_dir=tmp_path / "out", dataset=3)
    with pytest.raises(ConfigError, match="unknown dataset 'digitz'"):
        plot_run(path, out_dir=tmp_path / "out", dataset="digitz")
    with pytest.raises(ConfigError, match=r"run must be a model file's path \(or a Run\); got NoneType"):
        plot_run(None)


@needs_mpl
def test_history_figures_take_an_iterator_of_records_and_fewer_class_names_than_outputs():
    from bprop import plots
    net, X, y = _net_and_data()
    h = net.fit(X, y, epochs=2)
    plots.learning_curves_figure(iter(h.records))
    plots.most_wrong_figure(net, X[:, :30], y, (5, 6), class_names=["a", "b", "c"])


@needs_mpl
def test_names_with_dollar_signs_are_drawn_as_written():
    """matplotlib reads $...$ as mathtext: '$\\foo$' failed the plot, 'US$5 or $6' was drawn
    as italic 'US5or6'. Names from files are escaped; bprop's own labels (the log axis's
    powers of ten) are still typeset."""
    from matplotlib import cbook

    from bprop import plots

    net, X, y = _net_and_data()
    names = ["$\\foo$", "US$5 or $6", *map(str, range(2, 10))]
    net.biases[-1][...] = -20.0
    net.biases[-1][0] = 20.0                            # every example called class 0
    figures = [plots.confusion_figure(net, X, y, class_names=names),
               plots.most_wrong_figure(net, X, y, (6, 5), class_names=names)]
    for fig in figures:
        assert plots.png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    ticks = [t.get_text() for t in figures[0].axes[0].get_xticklabels()]
    assert ticks[:2] == [r"\$\foo\$", r"US\$5 or \$6"]
    assert not any(cbook.is_math_text(t) for t in ticks)
    titles = [t.get_text() for t in figures[1].axes[0].texts]
    assert any(t.startswith(r"US\$5 or \$6 → \$\foo\$") for t in titles)
    # an activation name from a history file, in the saturation plot's legend
    record = _diag_record(0, [0.3, 0.5], [0.2, 0.4], 0.1)
    record.diagnostics["activations"] = ["$\\foo$", "softmax"]
    fig = plots.saturation_figure([record])
    assert plots.png_bytes(fig)[:4] == b"\x89PNG"
    # the gradient norms' log axis still typesets its powers of ten
    fig = plots.gradient_norms_figure([record])
    plots.png_bytes(fig)
    assert any(cbook.is_math_text(t.get_text()) and t.get_parse_math()
               for t in fig.axes[0].get_yticklabels())
