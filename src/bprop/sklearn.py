"""scikit-learn estimators: :class:`BpropClassifier` and :class:`BpropRegressor`.

A :class:`bprop.Network` is built from the layer sizes, so it cannot be cloned, searched
over or put in a ``Pipeline``. These estimators take only hyperparameters; ``fit`` builds
the network from the data (``n_features_in_`` inputs, one output per class or target) and
trains it with :func:`bprop.train`. They pass scikit-learn's ``check_estimator``::

    from sklearn.model_selection import GridSearchCV
    from bprop.sklearn import BpropClassifier
    search = GridSearchCV(BpropClassifier(epochs=20, random_state=0),
                          {"eta": [0.1, 0.5], "hidden_layer_sizes": [(30,), (60,)]})
    search.fit(X, y)

After ``fit``: ``network_`` (the trained Network), ``classes_`` (classifier),
``n_features_in_``, ``history_`` (a :class:`bprop.History`), ``loss_curve_`` (each
epoch's running cost: the mean cost of its mini-batches as they were trained, plus the
regularisation terms) and ``n_iter_`` (epochs trained). ``partial_fit`` trains one more
epoch, keeping the optimiser's state (momentum, Adam's moments).

Rows on disk, :class:`bprop.rows.ScaledRows` (what ``bprop.datasets.load(directory)``
gives for a set larger than memory), are taken as they are: their width is checked as
scikit-learn checks it, and the network reads them a mini-batch at a time. Early stopping
then holds out their last rows, which copies nothing.

Needs scikit-learn 1.6 or newer (``pip install 'bprop[sklearn]'``).
"""

from __future__ import annotations

import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import (check_array, check_consistent_length,
                                          check_is_fitted, column_or_1d, validate_data)
except ImportError as e:        # the module is an optional extra
    raise ImportError("bprop.sklearn needs scikit-learn 1.6 or newer: "
                      "pip install 'bprop[sklearn]'") from e

from .errors import ConfigError, DataError
from .network import Network
from .optimizers import optimizer_for
from .predict import output_scores
from .rows import LazyRows
from .training import History, fit_config, train
from .validate import as_float

__all__ = ["BpropClassifier", "BpropRegressor"]


class _BpropEstimator(BaseEstimator):
    """What the classifier and the regressor share: the hyperparameters (scikit-learn
    reads them off ``__init__``'s signature, so each class spells them out), building the
    network, and training it."""

    #: The output activation and cost when ``output`` and ``cost`` are None.
    DEFAULT_OUTPUT = DEFAULT_COST = None
    #: What early stopping watches on the held-out rows.
    MONITOR = "val_accuracy"

    def _keep(self, given):
        """Store the constructor's arguments as they are, each under its own name (what
        scikit-learn's get_params and clone read back)."""
        for name, value in given.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _config(self, epochs, early_stopping=False):
        """The :class:`bprop.TrainConfig` of these hyperparameters."""
        return fit_config(epochs, self.batch_size, self.eta, optimizer=self.optimizer,
                          momentum=self.momentum, lmbda=self.lmbda, l1=self.l1,
                          dropout=self.dropout, early_stopping=early_stopping,
                          patience=self.patience, monitor=self.MONITOR)

    def _rng(self):
        """A fresh generator from ``random_state`` (an int repeats the fit exactly; a
        RandomState or Generator is drawn from, as scikit-learn's estimators do)."""
        seed = self.random_state
        if seed is None or isinstance(seed, (int, np.integer)) and seed >= 0:
            return np.random.default_rng(seed)
        if isinstance(seed, np.random.Generator):
            return np.random.default_rng(seed.integers(2**31))
        if isinstance(seed, np.random.RandomState):
            return np.random.default_rng(seed.randint(2**31))
        raise ConfigError(f"random_state must be None, an int >= 0, a numpy RandomState or "
                          f"Generator; got {seed!r}")

    def _new_network(self, n_in, n_out):
        """A network ``[n_in, *hidden_layer_sizes, n_out]`` (sizes checked by Network)."""
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if np.ndim(hidden) == 0 else list(hidden)
        return Network([n_in, *hidden, n_out], self.activation,
                       self.DEFAULT_COST if self.cost is None else self.cost, self.init,
                       output=self.DEFAULT_OUTPUT if self.output is None else self.output,
                       rng=self._rng(), dtype=self.dtype)

    def _fit_network(self, X, Y, n_out):
        """Build a new network for rows X and targets Y (labels or rows) and train it."""
        self.network_ = self._new_network(X.shape[1], n_out)
        config = self._config(self.epochs, self.early_stopping)
        validation = None
        if self.early_stopping:
            X, Y, validation = self._hold_out(X, Y)
        self._optimizer = optimizer_for(config)
        self.history_ = train(self.network_, X, Y, config, validation=validation,
                              optimizer=self._optimizer,
                              on_epoch_end=self._reporter(self.epochs))
        return self._fitted()

    def _partial_fit_network(self, X, Y):
        """One more epoch of the network built by an earlier fit or partial_fit (without
        early stopping, which needs whole runs)."""
        done = len(self.history_.records)
        train(self.network_, X, Y, self._config(done + 1), history=self.history_,
              start_epoch=done, optimizer=self._optimizer, on_epoch_end=self._reporter())
        return self._fitted()

    def _hold_out(self, X, Y):
        """``validation_fraction`` of the rows, drawn by the network's generator, kept
        aside for early stopping: ``(X_train, Y_train, (X_val, Y_val))``; of rows on disk,
        the last ones (drawn, they would be copied into memory)."""
        n_val = int(round(self.validation_fraction * len(X)))
        if not 0 < self.validation_fraction < 1 or not 1 <= n_val < len(X):
            raise ValueError(f"early_stopping holds out validation_fraction="
                             f"{self.validation_fraction!r} of {len(X)} samples; it must "
                             f"leave at least one sample on each side")
        if isinstance(X, LazyRows):
            cut = len(X) - n_val
            return X.part(slice(cut)), Y[:cut], (X.part(slice(cut, None)), Y[cut:])
        order = self.network_.rng.permutation(len(X))
        val, kept = order[:n_val], order[n_val:]
        return X[kept], Y[kept], (X[val], Y[val])

    def _reporter(self, of=None):
        """With ``verbose``, what prints one line per epoch ("epoch 3/30, ..."), else None."""
        return (lambda record: self._report(record, of)) if self.verbose else None

    @staticmethod
    def _report(record, of):
        shown = [f"epoch {record.epoch + 1}" + (f"/{of}" if of else "")]
        for name in ("running_cost", "val_accuracy", "val_cost"):
            value = getattr(record, name)
            if value is not None:
                shown.append(f"{name.replace('_', ' ')} {value:.4g}")
        print(", ".join(shown) + f" ({record.seconds:.2f} s)", flush=True)

    def _fitted(self):
        self.loss_curve_ = self.history_.column("running_cost")
        self.n_iter_ = len(self.history_.records)
        return self

    def _rows(self, X):
        """X checked against the fitted estimator, as floats of the network's dtype.

        An array of the network's dtype and width, the common case, goes straight to the
        network, whose checks of its values name NaN and infinity as scikit-learn does:
        ``validate_data`` would take 5-10 times as long as the prediction of one row."""
        check_is_fitted(self, "network_")
        if isinstance(X, LazyRows):
            return self._lazy_rows(X, reset=False)
        if type(X) is np.ndarray and X.dtype == self.network_.dtype and X.ndim == 2 and \
                X.shape[0] > 0 and X.shape[1] == self.n_features_in_ and \
                not hasattr(self, "feature_names_in_"):
            return X
        return validate_data(self, X, reset=False, dtype=np.dtype(self.dtype).type)

    def _lazy_rows(self, X, reset):
        """Rows on disk as they are (``validate_data`` would read them all into memory),
        their size checked and their width checked or, with ``reset``, recorded as
        ``validate_data`` does (with its messages)."""
        name = type(self).__name__
        for n, what in ((X.shape[0], "sample"), (X.shape[1], "feature")):
            if n == 0:
                raise ValueError(f"Found array with 0 {what}(s) (shape={X.shape}) while a "
                                 f"minimum of 1 is required by {name}.")
        if reset:
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            return X
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting "
                             f"{self.n_features_in_} features as input.")
        if hasattr(self, "feature_names_in_"):
            warnings.warn(f"X does not have valid feature names, but {name} was fitted with "
                          f"feature names", UserWarning, stacklevel=3)
        return X

    def _training_rows(self, X, y, reset, targets=False):
        """X and y as ``validate_data`` checks them, rows on disk left there. targets: y
        holds numbers, one column or several (the regressor's); else one label a row."""
        if not isinstance(X, LazyRows):
            return validate_data(self, X, y, reset=reset, dtype=np.dtype(self.dtype).type,
                                 multi_output=targets, y_numeric=targets)
        X = self._lazy_rows(X, reset)
        if y is None:
            raise ValueError(f"This {type(self).__name__} estimator requires y to be passed, "
                             f"but the target y is None.")
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if targets and y.dtype.kind == "O":     # numbers held as objects, as y_numeric takes
            y = y.astype(np.float64)
        if not targets:
            y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        return X, y


class BpropClassifier(ClassifierMixin, _BpropEstimator):
    """A bprop network as a scikit-learn classifier.

    hidden_layer_sizes: widths of the hidden layers, e.g. ``(30,)`` (the book's) or
        ``(100, 50)``; ``()`` for none (logistic regression).
    activation: the hidden layers' σ (sigmoid, tanh, relu, identity).
    output, cost: the output layer's activation and the cost; default softmax with the
        log-likelihood cost (the book's chapter 3), one output per class.
    init: "scaled-normal" (N(0, 1/n_in), the book's network2), "normal", "xavier" or "he".
    optimizer, eta, momentum: sgd, momentum, nesterov or adam; the learning rate η; the
        momentum coefficient μ.
    epochs, batch_size: passes over the data and mini-batch size m.
    lmbda, l1: L2 and L1 regularisation, the book's terms (λ/2n)Σw² and (λ₁/n)Σ|w|.
    dropout: probability of dropping a hidden neuron while training.
    early_stopping, validation_fraction, patience: hold out that fraction of the rows and
        stop when their accuracy has not improved for ``patience`` epochs, keeping the best
        weights.
    random_state: int, ``numpy.random.RandomState`` or ``Generator``, or None; draws the
        initial weights, the shuffles and dropout.
    dtype: "float64" (exact) or "float32" (faster).
    verbose: print one line per epoch.
    """

    DEFAULT_OUTPUT, DEFAULT_COST = "softmax", "log-likelihood"

    def __init__(self, hidden_layer_sizes=(30,), activation="sigmoid", output=None, cost=None,
                 init="scaled-normal", optimizer="sgd", eta=0.5, momentum=0.9, epochs=30,
                 batch_size=10, lmbda=0.0, l1=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, patience=10, random_state=None, dtype="float64",
                 verbose=0):
        self._keep(locals())

    def fit(self, X, y):
        """Build a network for X ``(n_samples, n_features)`` and labels y (any values; their
        sorted distinct values are ``classes_``) and train it for ``epochs`` epochs."""
        X, labels = self._check_training_data(X, y, reset=True)
        self.classes_, labels = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; "
                             f"got 1 class ({self.classes_.tolist()[0]!r})")
        return self._fit_network(X, labels, self._n_outputs())

    def partial_fit(self, X, y, classes=None):
        """Train one more epoch on X, y. The first call builds the network and needs
        ``classes``, every label there will be (as scikit-learn's other incremental
        classifiers do); later calls continue the network, its history and optimiser."""
        first = not hasattr(self, "network_")
        X, labels = self._check_training_data(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit "
                                 "(every label the data will hold)")
            classes = np.unique(classes)
            if len(classes) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; got "
                                 f"classes={list(classes)!r}")
            self.classes_ = classes
            self.network_ = self._new_network(X.shape[1], self._n_outputs())
            self.history_ = History()
            self._optimizer = optimizer_for(self._config(1))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)!r} differ from those of the first call "
                             f"to partial_fit ({list(self.classes_)!r})")
        unknown = np.setdiff1d(labels, self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels not in classes: {unknown[:5].tolist()!r}")
        return self._partial_fit_network(X, np.searchsorted(self.classes_, labels))

    def _n_outputs(self):
        """One output per class; one alone for two classes when the output layer is not a
        softmax (a sigmoid's a is the second class's probability)."""
        if len(self.classes_) == 2 and self.output not in (None, "softmax"):
            return 1
        return len(self.classes_)

    def _check_training_data(self, X, y, reset):
        X, y = self._training_rows(X, y, reset)
        check_classification_targets(y)
        return X, y

    def predict_proba(self, X):
        """The probability of each class in ``classes_`` (columns in that order) for each
        row: the softmax output; sigmoid or ReLU outputs divided by their sum; one output a
        as 1 − a and a (:func:`bprop.predict.output_scores`). Identity or tanh outputs come
        as they are."""
        X = self._rows(X)
        return output_scores(self.network_, X)[0]

    def predict(self, X):
        """The class in ``classes_`` with the highest output for each row."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class BpropRegressor(RegressorMixin, _BpropEstimator):
    """A bprop network as a scikit-learn regressor: an identity output layer with the
    quadratic cost, one output per target (y of shape ``(n_samples,)`` or
    ``(n_samples, n_targets)``). The hyperparameters are :class:`BpropClassifier`'s, with
    a smaller default η (unbounded outputs take larger steps) and ``relu`` hidden layers
    with He initialisation; early stopping watches the held-out rows' cost.
    """

    DEFAULT_OUTPUT, DEFAULT_COST = "identity", "quadratic"
    MONITOR = "val_cost"

    def __init__(self, hidden_layer_sizes=(30,), activation="relu", output=None, cost=None,
                 init="he", optimizer="adam", eta=0.001, momentum=0.9, epochs=30,
                 batch_size=10, lmbda=0.0, l1=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, patience=10, random_state=None, dtype="float64",
                 verbose=0):
        self._keep(locals())

    def fit(self, X, y):
        """Build a network for X and targets y and train it for ``epochs`` epochs."""
        X, Y = self._check_training_data(X, y, reset=True)
        return self._fit_network(X, Y, Y.shape[1])

    def partial_fit(self, X, y):
        """Train one more epoch on X, y (the first call builds the network)."""
        if not hasattr(self, "network_"):
            X, Y = self._check_training_data(X, y, reset=True)
            self.network_ = self._new_network(X.shape[1], Y.shape[1])
            self.history_ = History()
            self._optimizer = optimizer_for(self._config(1))
        else:
            X, Y = self._check_training_data(X, y, reset=False)
            if Y.shape[1] != self.network_.sizes[-1]:
                raise ValueError(f"y has {Y.shape[1]} targets; the first call to partial_fit "
                                 f"had {self.network_.sizes[-1]}")
        return self._partial_fit_network(X, Y)

    def _check_training_data(self, X, y, reset):
        dtype = np.dtype(self.dtype)
        X, y = self._training_rows(X, y, reset, targets=True)
        if reset:                       # the first fit says what predict returns
            self._one_target = np.ndim(y) == 1
        y = np.asarray(y)
        if y.dtype.kind in "US":        # numbers as text, as y_numeric takes them
            y = y.astype(np.float64)
        Y = as_float(y, "y", dtype).reshape(len(X), -1)
        # the cost sums (a − y)² over every target: where that overflows, "diverged, try a
        # smaller eta" would mislead (a margin of 4 for a − y beyond y itself)
        largest = float(np.abs(Y).max()) if Y.size else 0.0
        limit = np.sqrt(np.finfo(dtype).max / (4 * max(Y.size, 1)))
        if largest >= limit:
            raise DataError(f"y holds values up to {largest:.3g}: the sum of their squares "
                            f"over {Y.size:,} targets overflows {dtype.name} (each must stay "
                            f"under ±{limit:.3g}); scale them, e.g. with "
                            f"sklearn.preprocessing.StandardScaler")
        return X, Y

    def predict(self, X):
        """The network's outputs: ``(n_samples,)`` when fitted on one target, else
        ``(n_samples, n_targets)``."""
        X = self._rows(X)
        out = self.network_.predict_proba(X)
        return out[:, 0] if self._one_target else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
