"""The README's Python examples run as written.

The chapter 1 example reads the book's mnist.pkl.gz from the data cache; here the cache is
a temporary directory holding a small generated file of the same format.
"""

import re
from pathlib import Path

import pytest

from test_datasets import make_pkl_gz

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_example_runs(i, tmp_path, monkeypatch, capsys):
    code = BLOCKS[i]
    if "datasets import load" in code or "sklearn" in code:
        pytest.importorskip("sklearn", reason="the example needs scikit-learn")
    if "onnx" in code:
        pytest.importorskip("onnx", reason="the example needs onnx")
        pytest.importorskip("onnxruntime", reason="the example needs onnxruntime")
    if 'write_shifted("fashion"' in code:
        from bprop.datasets.fashion import find_fashion
        if find_fashion() is None:
            pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.setenv("BPROP_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    make_pkl_gz(tmp_path / "mnist.pkl.gz", sizes=(200, 50, 50))
    exec(compile(code, f"README block {i}", "exec"), {})
    out = capsys.readouterr().out
    if "net.SGD(" in code:
        assert re.search(r"^Epoch 29: \d+ / \d+$", out, flags=re.M)


SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


def _commands():
    """The README's `bprop ...` lines (comments cut), in order, from every sh block."""
    lines = []
    for block in SHELL_BLOCKS:
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("bprop "):
                lines.append(line)
    return lines


def test_readme_commands_run_as_written(tmp_path):
    """Every `bprop` line of the README that needs no download and no MPI, run in order in
    a fresh directory (where `examples/` is the repository's), as a newcomer would."""
    import os
    import shlex
    import subprocess
    import sys
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    os.symlink(README.parent / "examples", tmp_path / "examples")
    env = {**os.environ, "BPROP_DATA": str(tmp_path / "cache"), "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9"}
    ran = []
    for line in _commands():
        if any(word in line for word in ("mnist", "fashion", "--resume runs/f", "shifted")) or \
                "mpiexec" in line:
            continue                    # a download, a large data set, or MPI
        args = shlex.split(line)[1:]
        if args[0] == "export":
            pytest.importorskip("onnx", reason="export needs onnx")
        done = subprocess.run([sys.executable, "-m", "bprop", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        ran.append(args[0])
    assert {"train", "evaluate", "predict", "gradcheck", "info", "plot", "report",
            "export"} <= set(ran)
