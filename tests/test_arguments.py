"""Arguments refused at the boundary of bprop.predict: a one-line bprop error, never a
NumPy or Python traceback from deep inside, nor a silently wrong picture."""

import numpy as np
import pytest

from bprop.errors import ConfigError, ShapeError
from bprop.predict import MAX_SIDE, input_side, prepare_image, read_input, typical_box


def _picture():
    img = np.zeros((20, 20))
    img[5:15, 8:12] = 1.0
    return img


@pytest.mark.parametrize("side", [8.5, True, "8", None, 0, -3, 10**5])
def test_prepare_image_refuses_a_bad_side(side):
    with pytest.raises(ConfigError, match=rf"side must be a positive integer, at most "
                                          rf"{MAX_SIDE}; got "):
        prepare_image(_picture(), side)


@pytest.mark.parametrize("box", ["5", True, 0, 9, 2.5])
def test_prepare_image_refuses_a_bad_box(box):
    with pytest.raises(ConfigError, match=r"box must be an integer in \[1, 8\] \(the side\); got "):
        prepare_image(_picture(), 8, box=box)
    assert prepare_image(_picture(), 8, box=np.int64(6)).shape == (64,)


@pytest.mark.parametrize("n", [-4, 0, 4.0, "64", None])
def test_input_side_refuses_a_bad_number_of_inputs(n):
    with pytest.raises(ConfigError, match="n_inputs must be an integer >= 1; got "):
        input_side(n)


def test_input_side_refuses_an_absurd_image():
    assert input_side(MAX_SIDE ** 2) == MAX_SIDE
    with pytest.raises(ShapeError, match=r"a 1000000x1000000 image; pictures are prepared for "
                                         rf"inputs of at most {MAX_SIDE}x{MAX_SIDE}"):
        input_side(10**12)


def test_typical_box_wants_rows_of_images():
    X = np.zeros((3, 64))
    X[:, 10] = 1.0
    assert typical_box(X.tolist()) == typical_box(X) == 1
    with pytest.raises(ShapeError, match=r"X has shape \(64,\); expected rows of images"):
        typical_box(np.zeros(64))
    with pytest.raises(ShapeError, match=r"X has shape \(\); expected rows of images"):
        typical_box(5)


def test_read_input_refuses_a_bad_path_or_size(tmp_path):
    with pytest.raises(ConfigError, match="path must be the path of an image or .npy file; "
                                          "got None"):
        read_input(None, 64)
    path = tmp_path / "a.npy"
    np.save(path, _picture())
    with pytest.raises(ConfigError, match="n_inputs must be an integer >= 1; got 64.0"):
        read_input(path, 64.0)
    with pytest.raises(ShapeError, match="pictures are prepared for inputs of at most"):
        read_input(path, 10**12)
    assert read_input(path, 64).shape == (64,)
