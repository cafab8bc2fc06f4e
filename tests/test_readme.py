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
    monkeypatch.setenv("BPROP_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    make_pkl_gz(tmp_path / "mnist.pkl.gz", sizes=(200, 50, 50))
    exec(compile(code, f"README block {i}", "exec"), {})
    out = capsys.readouterr().out
    if "net.SGD(" in code:
        assert re.search(r"^Epoch 29: \d+ / \d+$", out, flags=re.M)
