"""The layout of docs/architecture.md, held against the code: every import in src/bprop runs
down the layer order below (so there is no import circle), no module imports another's
private names, and modules stay small enough to read in one sitting.

Adding a module: give it its place in LAYERS (and a line in docs/architecture.md)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "bprop"
ARCHITECTURE = SRC.parents[1] / "docs" / "architecture.md"

#: Every module of bprop, lowest first; a module may import only modules before it. A
#: package's __init__ is listed by the package's name, after its modules.
LAYERS = """
    version errors rules numerics rows stops atomic reading
    activations costs optimizers
    backprop outputs
    validate
    training.history training.config training.schedules training.augment training.steps
    training.processes training.parallel training.mpi training.progress training.loop training train parallel book
    modelfile network gradcheck
    io.history_files io.checkpoint io.book_json io.model io
    bprop network2
    diagnostics.collect diagnostics.records diagnostics.explain diagnostics
    images datasets.download datasets.idx datasets.files datasets.arrays datasets.mnist
    datasets.fashion
    datasets.digits datasets.registry datasets.recorded datasets.sources datasets
    predict mnist_loader
    plots.canvas plots.history_figures plots.network_figures plots.run plots report
    export sklearn
    cli.output cli.signals cli.checks cli.activation_flags cli.train cli.evaluate cli.export cli.gradcheck
    cli.info cli.plot cli.argtypes cli.helpformat cli.train_flags cli.parser cli.main cli
    __main__
""".split()
MAX_LINES = 450
MAX_NETWORK_CLASS_LINES = 300


def _modules():
    """name -> path of every module of the package ("training.loop", "bprop" for the root)."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts) or "bprop"] = path
    return found


def _imports(name, path):
    """The bprop modules ``name`` imports (anywhere in it, lazily too), with the names taken."""
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "bprop":
        package = []
    modules = set(_modules())
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
        target = ".".join(base + (node.module.split(".") if node.module else []))
        for alias in node.names:
            sub = f"{target}.{alias.name}" if target else alias.name
            if sub in modules:                      # `from . import backprop as core`
                found.append((sub, None))
            else:
                found.append((target or "bprop", alias.name))
    return found


def test_every_module_has_its_place_in_the_layers():
    modules = set(_modules())
    assert sorted(modules - set(LAYERS)) == [], "give new modules a layer"
    assert sorted(set(LAYERS) - modules) == [], "a layer names a module that is gone"
    assert len(LAYERS) == len(set(LAYERS))


def test_imports_run_down_the_layers_only():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [f"{name} imports {target}"
              for name, path in _modules().items()
              for target, _ in _imports(name, path)
              if target != name and rank[target] >= rank[name]]
    assert upward == []


def test_no_module_imports_another_modules_private_names():
    private = [f"{name} takes {target}.{taken}"
               for name, path in _modules().items()
               for target, taken in _imports(name, path)
               if taken and taken.startswith("_") and not taken.startswith("__")]
    assert private == []


def test_no_module_calls_into_another_objects_private_names():
    """``net._x(...)`` or ``module._x``: only ``self``/``cls`` touch bprop's underscore names;
    other packages' (``os._exit``, NumPy's pickle helpers) are theirs to answer for."""
    reaching = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text())
        others = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom)
                                                      and not node.level)
                  for a in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name) \
                    and node.value.id not in {"self", "cls", *others}:
                reaching.append(f"{name}: {node.value.id}.{node.attr}")
    assert reaching == []


def test_modules_stay_small():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_network_class_holds_parameters_not_maths():
    tree = ast.parse((SRC / "network.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Network"]
    assert cls.end_lineno - cls.lineno + 1 <= MAX_NETWORK_CLASS_LINES


def test_the_architecture_page_names_every_module():
    page = ARCHITECTURE.read_text()
    packages = {name.split(".")[0] for name in LAYERS if "." in name}
    shown = {name: f"`{name}/`" if name in packages else
             "`bprop/__init__.py`" if name == "bprop" else f"`{name.split('.')[-1]}.py`"
             for name in LAYERS}
    assert [name for name, text in shown.items() if text not in page] == []


def test_the_checker_reads_relative_imports_lazy_ones_too():
    """Without this, every test above would pass on a graph with no arrows."""
    imports = dict(_imports("io.model", SRC / "io" / "model.py"))
    assert "network" in imports and "io.checkpoint" in imports
    assert "backprop" in [t for t, _ in _imports("network", SRC / "network.py")]  # `as core`
    lazy = [t for t, _ in _imports("predict", SRC / "predict.py")]      # inside a function
    assert "datasets.files" in lazy
