"""The book's ``network2.py`` interface (chapter 3) on bprop's backprop core.

A program written for the book's ``network2.py`` runs with only its import changed::

    from bprop import network2
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.SGD(training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)

Differences from ``bprop.Network``: the cost defaults to cross-entropy, the weights start
from N(0, 1/n_in) (``default_weight_initializer``), ``SGD`` takes L2 ``lmbda`` and the
four ``monitor_*`` flags and returns the four lists, and ``save`` writes the book's JSON.
``accuracy`` and ``total_cost`` keep the book's ``convert`` flags, whose meanings are
opposite: ``accuracy(data, convert=True)`` is for one-hot targets (training data),
``total_cost(data, lmbda, convert=True)`` for int labels (validation/test data).
"""

from __future__ import annotations

import numpy as np

from . import book
from . import network as _network
from .activations import sigmoid, sigmoid_prime  # noqa: F401  (the book's module-level names)
from .book import vectorized_result  # noqa: F401  (the book's module-level name)
from .costs import CrossEntropyCost, QuadraticCost  # noqa: F401
from .io import load_book_json, save_book_json
from .outputs import predicted_classes
from .errors import check_number
from .training import TrainConfig
from .validate import check_parameters


class Network(_network.Network):
    """network2's Network: cross-entropy by default, weights N(0, 1/n_in), L2-regularised SGD."""

    def __init__(self, sizes, cost=CrossEntropyCost, *, rng=None, **options):
        options.setdefault("init", "scaled-normal")
        super().__init__(sizes, cost=cost, rng=rng, **options)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False):
        """Mini-batch SGD with L2 regularisation, monitoring as the book's network2 does.

        After each epoch prints ``Epoch j training complete`` and the monitored values, then
        a blank line. Returns ``(evaluation_cost, evaluation_accuracy, training_cost,
        training_accuracy)``, each a per-epoch list (empty when its monitor is off).
        Shuffles and trains as ``network.Network.SGD`` does (:func:`bprop.book.sgd`); a
        subclass's ``total_cost`` and ``accuracy`` are what the monitors call.
        """
        pairs = book.pairs(training_data, "training_data")
        X, Y = book.training_arrays(self, pairs)
        labels = predicted_classes(Y)
        if evaluation_data is not None:
            evaluation_data = book.items(evaluation_data, "evaluation_data")
        # the book tests `if evaluation_data:`, so an empty list means none
        evaluation = (book.test_arrays(self, evaluation_data, "evaluation_data")
                      if evaluation_data else None)
        check_parameters(self)
        book.fresh_parameters(self)
        config = TrainConfig(epochs=epochs, mini_batch_size=mini_batch_size, eta=eta,
                             lmbda=lmbda, monitor_running_cost=False)
        overridden = book.overrides(self, Network, ("total_cost", "accuracy"))
        shuffle = book.Shuffle(self, training_data)
        evaluation_cost, evaluation_accuracy = [], []
        training_cost, training_accuracy = [], []

        def cost(data, X, Y, convert, order=None):
            if "total_cost" in overridden:
                return self.total_cost(data, lmbda, convert=convert)
            if self.book_mode:      # the book's arithmetic, in its list's order: its digits
                return book.total_cost(self, X, self.targets(Y, len(X)), lmbda, order)
            return self.mean_cost(X, Y, lmbda)

        def correct(data, X, labels, convert):
            if "accuracy" in overridden:
                return self.accuracy(data, convert=convert)
            return int(np.count_nonzero(self.predict(X) == labels))

        def monitor(j, record=None):
            print(f"Epoch {j} training complete")
            if monitor_training_cost:
                training_cost.append(cost(pairs, X, Y, convert=False, order=shuffle.order))
                print(f"Cost on training data: {training_cost[-1]}")
            if monitor_training_accuracy:
                training_accuracy.append(correct(pairs, X, labels, convert=True))
                print(f"Accuracy on training data: {training_accuracy[-1]} / {len(X)}")
            if evaluation is not None and monitor_evaluation_cost:
                evaluation_cost.append(cost(evaluation_data, *evaluation, convert=True))
                print(f"Cost on evaluation data: {evaluation_cost[-1]}")
            if evaluation is not None and monitor_evaluation_accuracy:
                evaluation_accuracy.append(correct(evaluation_data, *evaluation, convert=False))
                print(f"Accuracy on evaluation data: {evaluation_accuracy[-1]} / "
                      f"{len(evaluation_data)}")
            print()

        book.train_epochs(self, Network, pairs, X, Y, config, shuffle, monitor,
                          lambda mini_batch: self.update_mini_batch(mini_batch, eta, lmbda,
                                                                    len(pairs)))
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def accuracy(self, data, convert=False):
        """Number of inputs in ``data`` classified correctly (0 for no data, as the book's sum).

        convert=False: targets are int labels (validation/test data); convert=True: one-hot
        columns (training data).
        """
        pairs = book.items(data, "data")
        if not pairs:
            return 0
        if convert:
            X, Y = book.training_arrays(self, pairs, "data")
            labels = predicted_classes(Y)
        else:
            X, labels = book.test_arrays(self, pairs, "data")
        return int(np.count_nonzero(self.predict(X) == labels))

    def total_cost(self, data, lmbda, convert=False):
        """Mean cost over ``data`` plus ½(λ/len(data))Σ‖w‖².

        convert=False: targets are one-hot columns (training data); convert=True: int labels
        to be made one-hot (validation/test data) -- the opposite sense to ``accuracy``. In
        :attr:`book_mode` computed example by example as the book does (its digits,
        :func:`bprop.book.total_cost`), else in one batched pass (``mean_cost``).
        """
        pairs = book.items(data, "data")
        if convert:
            X, labels = book.test_arrays(self, pairs, "data")
            Y = self.targets(labels, len(X))
        else:
            X, Y = book.training_arrays(self, pairs, "data")
        if self.book_mode:
            check_number(lmbda, "lmbda")
            return book.total_cost(self, X, Y, lmbda)
        return self.mean_cost(X, Y, lmbda)

    def save(self, filename):
        """Write the book's JSON: sizes, weights, biases and the cost's class name."""
        save_book_json(self, filename)


def load(filename):
    """Load a network saved by :meth:`Network.save` (the book's JSON format)."""
    return load_book_json(filename, network_class=Network)

