"""`import bprop` needs NumPy only: the optional packages are imported lazily."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

BLOCK = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'matplotlib', 'sklearn', 'scipy', 'PIL', 'tqdm', 'torch'}:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import bprop
assert 'bprop.plots' not in sys.modules          # loaded on first use, not by import bprop
bprop.diagnostics.Diagnostics, bprop.plots.plot_run, bprop.datasets.load   # as README shows
import bprop.cli, bprop.report, bprop.network2, bprop.mnist_loader, bprop.predict
import numpy as np
net = bprop.Network([3, 2], rng=0)
net.fit(np.zeros((4, 3)), [0, 1, 0, 1], epochs=1, batch_size=2)
print('ok')
"""


def test_import_and_train_with_numpy_only():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


#: Import paths users may have used before the package was restructured, with the names
#: each offered then; every one must still import and offer them.
OLD_PATHS = {
    "bprop.train": "EpochRecord History MONITORS OPTIMIZERS SCHEDULES STOPPED_BY_CALLBACK "
                   "TrainConfig check_record stopping_rule_met train",
    "bprop.io": "COSTS_BY_CLASS_NAME Checkpoint FORMAT HISTORY_COLUMNS REGULARISATION VERSION "
                "atomic_write history_paths load load_book_json load_checkpoint save "
                "save_book_json save_history",
    "bprop.diagnostics": "COST_REBOUND_WARN COST_RISE_WARN DEAD_MIN_SAMPLE DEAD_WARN "
                         "DEAD_WARN_SMALL_SAMPLE DIVERGING Diagnostics GRADIENT_RATIO_WARN "
                         "OUTPUT_SATURATION_WARN PEAK_PRIME PER_LAYER SATURATION STALLED "
                         "STALLED_COST check_diagnostics confusion_counts explain "
                         "history_records layer_stats",
    "bprop.predict": "INK_THRESHOLD MAX_SIDE MNIST_BOX_FRACTION NOISE_FLOOR_SIGMAS ascii_art "
                     "default_box input_side output_scores prepare_image read_image read_input "
                     "resize_area typical_box",
    "bprop.network": "INITIALIZERS Network PROBABILITY_OUTPUTS ROWS_PER_PASS class_scores "
                     "predicted_classes sigmoid sigmoid_prime",
    "bprop.network2": "Network load vectorized_result sigmoid sigmoid_prime CrossEntropyCost "
                      "QuadraticCost",
    "bprop.mnist_loader": "PKL_NAME PKL_URL load_data load_data_wrapper vectorized_result",
    "bprop.plots": "DPI FIGSIZE PIXELS Run SATURATION confusion_figure gradient_norms_figure "
                   "learning_curves_figure load_run most_wrong most_wrong_figure plot_run "
                   "png_bytes run_figures saturation_figure save_figure weights_figure",
    "bprop.datasets": "AVAILABLE CLASS_NAMES Dataset DatasetInfo MAX_CLASSES canonical_name "
                      "check_n_classes describe load load_recorded split_validation "
                      "to_book_format uses_data_dir",
    "bprop.parallel": "SPINS_BEFORE_YIELD WorkerError Workers available_cpus check_workers "
                      "openblas_controls shared_array slice_bounds",
    "bprop.cli": "BAD_INPUT build_parser cmd_evaluate cmd_gradcheck cmd_info cmd_plot "
                 "cmd_predict cmd_report cmd_train main",
}


def test_old_import_paths_keep_their_names():
    import importlib

    import bprop

    for path, names in OLD_PATHS.items():
        module = importlib.import_module(path)
        missing = [name for name in names.split() if not hasattr(module, name)]
        assert not missing, f"{path} lost {missing}"
    # `import bprop.train` gives the module; the package's name stays the function
    assert callable(bprop.train) and bprop.train.__name__ == "train"
    assert bprop.train is importlib.import_module("bprop.training").train


def test_the_version_is_the_one_pyproject_builds():
    """bprop.version is what model files, ONNX graphs and --version record: the same as the
    package's metadata in pyproject.toml."""
    import tomllib

    import bprop
    from bprop.version import __version__
    pyproject = tomllib.loads((SRC.parent / "pyproject.toml").read_text())
    assert bprop.__version__ == __version__ == pyproject["project"]["version"]
