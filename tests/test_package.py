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
