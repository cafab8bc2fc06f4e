# Two commands do all set-up on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUN    ?= runs/digits
CHECK  ?=

.PHONY: train test bench accuracy faults clean

$(VENV)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The main job: real handwritten digits (scikit-learn's 8x8 set), no download.
train: $(VENV)/.installed-dev
	$(PY) -m bprop train --dataset digits --hidden 30 --epochs 30 --mini-batch-size 10 --eta 3.0 \
	    --seed 1 --save $(RUN)/model.npz --overwrite
	$(PY) -m bprop predict $(RUN)/model.npz --dataset digits --count 5

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

# `make bench CHECK=--check`: also fail (exit 1) when a speed target is not met.
bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench.py $(CHECK)
	$(PY) benchmarks/book_speed.py $(CHECK)

accuracy: $(VENV)/.installed-dev
	$(PY) benchmarks/accuracy.py

# SIGKILL during saves and two runs on one file, 20 rounds: every count but runs must be 0.
faults: $(VENV)/.installed-dev
	$(PY) benchmarks/faults.py --check

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
