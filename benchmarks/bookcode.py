"""The operations of the book's ``network.py``, written out here to time bprop against.

This is not the book's code (which is not ours to commit) but its algorithm performed with
the same NumPy operations in the same order, as its text describes it: weights drawn with
``np.random.randn``, ``random.shuffle`` of the training list, one ``backprop`` per example
allocating zero gradients, σ′(z) computed from σ(z) twice, sums by list comprehension, new
weight arrays each step, ``evaluate`` by ``argmax`` of ``feedforward`` per test example.
No bprop import: ``benchdata``, ``bench.py`` and ``book_speed.py`` time any checkout of bprop
against it, and ``tests/test_book.py`` holds bprop's book mode to it bit for bit.
"""

from __future__ import annotations

import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y, delta_of_output=None):
    """``(nabla_b, nabla_w)`` for one example, the book's way: of the quadratic cost, or with
    BP1 from ``delta_of_output(z, a, y)`` (network2's cost classes' ``delta``)."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation, activations, zs = x, [x], []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    if delta_of_output is None:
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])              # BP1
    else:
        delta = delta_of_output(zs[-1], activations[-1], y)
    nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].transpose())
    for l in range(2, len(weights) + 1):
        delta = np.dot(weights[-l + 1].transpose(), delta) * sigmoid_prime(zs[-l])
        nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


class Network:
    """The book's sigmoid network with the quadratic cost, its weights drawn as the book
    draws them (biases, then weights, from ``np.random.randn``)."""

    def __init__(self, sizes):
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        return backprop(self.weights, self.biases, x, y)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def evaluate(self, test_data):
        return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in test_data)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """The book's loop; shuffles ``training_data`` (a list) in place with ``random``."""
        n = len(training_data)
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)
            if test_data:
                print(f"Epoch {j}: {self.evaluate(test_data)} / {len(test_data)}")
            else:
                print(f"Epoch {j} complete")
