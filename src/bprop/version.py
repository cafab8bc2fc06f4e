"""bprop's version, at the base of the package so that any module may name it (model files,
ONNX graphs, reports and ``--version`` record it) without importing the package's face."""

__version__ = "0.1.0"
