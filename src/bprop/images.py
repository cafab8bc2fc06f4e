"""Turning a picture into a network input, the way MNIST's digits were made.

MNIST's images were prepared like this (LeCun, Cortes and Burges): the scanned digit was
size-normalised to fit a 20x20 box keeping its aspect ratio, anti-aliased to grey levels,
and placed in a 28x28 field with its centre of mass at the centre. :func:`prepare_image`
does the same to any picture, for a network whose input is a square image of ``side**2``
pixels:

1. grey levels in ``[0, 1]``; the paper taken away: a quadratic surface fitted to the
   border's grey levels, so that light falling off across a photo, or toward its corners,
   goes with it; inverted when the ink is darker than the paper (the data sets have light
   ink on black). Which side the ink lies on is read from the picture slightly blurred
   (3x3), so that stray noisy pixels do not decide;
2. the grey levels stretched so that the brightest ink is 1, and what is left below the
   noise floor set to 0. The floor is 5% of the ink, or, for a photo or scan, six times
   the border's deviation from the fitted surface (noise, grain), whichever is higher;
3. cropped to the ink's bounding box and resized, by area averaging, to fit a
   ``box x box`` square keeping the aspect ratio (``box`` = 20 for a 28x28 input);
4. pasted into a ``side x side`` field with its centre of mass at the centre.

``box`` defaults to MNIST's proportion, ``round(20/28 · side)``; :func:`typical_box`
measures it from a data set's training images instead, so that a model trained on, say,
scikit-learn's 8x8 digits (which fill their whole frame: box 8) is fed pictures shaped like
its training data. The command line stores the measured box in the model file.

Resizing is plain NumPy (an exact box filter), so ``.npy`` images need nothing else;
decoding PNG or JPEG files needs Pillow, imported lazily (the ``images`` extra).
Nothing here prints. Reading a picture file for a network (and ``.npy`` inputs) is
:func:`bprop.predict.read_input`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .reading import check_regular_file
from .rows import LazyRows
from .errors import ConfigError, DataError, ShapeError, check_int, whole

#: MNIST's box: digits fit in 20x20 inside the 28x28 field.
MNIST_BOX_FRACTION = 20 / 28
#: A pixel counts as ink when it is brighter than this (after background removal), at least.
INK_THRESHOLD = 0.05
#: ... and when it stands out from the background by this many times the border's spread.
NOISE_FLOOR_SIGMAS = 6.0
#: The largest input image prepared, MAX_SIDE x MAX_SIDE (16.8 million inputs): a larger
#: side is a mistake, not the input layer of a dense network.
MAX_SIDE = 4096


def input_side(n_inputs, image_shape=None):
    """Side of the square image a network with ``n_inputs`` inputs takes, or raise ShapeError
    (also for a side above :data:`MAX_SIDE`).

    image_shape: the training data's ``(rows, cols)`` when known (stored in the model file).
    """
    check_int(n_inputs, "n_inputs", minimum=1)
    if image_shape is not None and len(image_shape) == 2:
        rows, cols = (int(s) for s in image_shape)
        what = f"images of shape ({rows}, {cols})"
        square = rows == cols and rows * cols == n_inputs
        side = rows
    else:
        side = math.isqrt(n_inputs)
        what = f"{n_inputs} inputs, not a square image"
        square = side * side == n_inputs
    if not square:
        raise ShapeError(f"the model takes {what}; predicting on pictures needs a model for "
                         f"square images (e.g. 784 = 28x28 or 64 = 8x8 inputs)")
    if side > MAX_SIDE:
        raise ShapeError(f"the model takes {n_inputs} inputs, a {side}x{side} image; pictures "
                         f"are prepared for inputs of at most {MAX_SIDE}x{MAX_SIDE}")
    return side


def typical_box(X, image_shape=None):
    """The side of the box a data set's images are fitted into, measured from rows X.

    The median over the images of the longer side of the ink's bounding box: 20 for MNIST,
    8 for scikit-learn's digits, which fill their whole frame. X: ``(N, side * side)``.
    """
    X = np.asarray(X[:2000] if isinstance(X, LazyRows) else X)     # (rows on disk: a sample)
    if X.ndim != 2:
        raise ShapeError(f"X has shape {X.shape}; expected rows of images, (N, side * side)")
    if X.dtype.kind not in "biuf":
        raise DataError(f"X must hold numbers; got dtype {X.dtype}")
    side = input_side(X.shape[1], image_shape)
    images = np.asarray(X[:2000], dtype=np.float64).reshape(-1, side, side)  # enough for a median
    peaks = images.max(axis=(1, 2), keepdims=True)
    ink = (images > INK_THRESHOLD * peaks) & (peaks > 0)
    rows, cols = ink.any(axis=2), ink.any(axis=1)           # (N, side) each
    has_ink = rows.any(axis=1)
    if not has_ink.any():
        return default_box(side)
    idx = np.arange(side)

    def span(mask):
        first = np.where(mask, idx, side).min(axis=1)
        last = np.where(mask, idx, -1).max(axis=1)
        return last - first + 1

    longer = np.maximum(span(rows[has_ink]), span(cols[has_ink]))
    return int(np.median(longer))


def default_box(side):
    """MNIST's box for a ``side x side`` field: round(20/28 · side), at least 1."""
    return max(1, round(MNIST_BOX_FRACTION * side))


def prepare_image(pixels, side, *, box=None, centre=True):
    """A picture as a network input: ``(side * side,)`` float64 in ``[0, 1]``, light ink on black.

    pixels: 2-D grey levels ``(rows, cols)``; integers are taken as bytes (0-255), floats
    as lying in ``[0, 1]``. side: an integer in ``[1, MAX_SIDE]``. box: size of the square
    the ink is fitted into, an integer in ``[1, side]`` (default MNIST's 20/28 of the side;
    :func:`typical_box` measures it from training data). centre: prepare it as MNIST's
    digits were made (the ink cropped, fitted into the box, its centre of mass put in the
    middle); False for data sets whose pictures fill their frame (Fashion-MNIST's clothes):
    the whole picture, light on dark, fitted into the frame (:func:`frame_image`).
    """
    if whole(side, 1, MAX_SIDE) is None:
        raise ConfigError(f"side must be a positive integer, at most {MAX_SIDE}; got {side!r}")
    side = whole(side)
    if not centre:
        return frame_image(pixels, side)
    if box is None:
        box = default_box(side)
    if whole(box, 1, side) is None:
        raise ConfigError(f"box must be an integer in [1, {side}] (the side); got {box!r}")
    box = whole(box)
    img = _grey(pixels)
    paper, noise = _paper(img)
    img -= paper                                # signed: ink is below or above the paper
    blurred = _blur3(img)
    if -blurred.min() > blurred.max():          # dark ink: make it light on black
        np.negative(img, out=img)
    np.clip(img, 0.0, None, out=img)
    peak = float(img.max())
    if peak <= max(1e-6, NOISE_FLOOR_SIGMAS * noise):
        raise DataError("the image is blank: no ink differs from the background")
    img /= peak
    floor = max(INK_THRESHOLD, NOISE_FLOOR_SIGMAS * noise / peak)
    img[img <= floor] = 0.0
    # the crop: the ink that has ink around it (a 3x3 mean above the floor; a lone noisy
    # pixel has not), tightened to the ink pixels inside that box
    core = _blur3(np.pad(img, 1)) > floor
    if not core.any():                          # strokes too thin for the mean to clear it
        if np.count_nonzero(img) < 3:
            raise DataError("the image is blank: nothing but a stray pixel stands out from "
                            "the paper's noise")
        core = img > 0.0
    (r0, r1), (c0, c1) = _box(core)
    if not img[r0:r1, c0:c1].any():             # the ink that lifted the mean is just outside
        r0, c0 = max(r0 - 1, 0), max(c0 - 1, 0)
        r1, c1 = min(r1 + 1, img.shape[0]), min(c1 + 1, img.shape[1])
    (dr0, dr1), (dc0, dc1) = _box(img[r0:r1, c0:c1] > 0.0)
    img = img[r0 + dr0:r0 + dr1, c0 + dc0:c0 + dc1]
    h, w = img.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = resize_area(img, new_h, new_w)
    # translate it so that its centre of mass falls on the field's centre, keeping it inside
    cy, cx = _centre_of_mass(small)
    mid = (side - 1) / 2
    top = min(max(math.floor(mid - cy + 0.5), 0), side - new_h)
    left = min(max(math.floor(mid - cx + 0.5), 0), side - new_w)
    field = np.zeros((side, side))
    field[top:top + new_h, left:left + new_w] = small
    np.clip(field, 0.0, 1.0, out=field)
    return field.reshape(-1)


def frame_image(pixels, side):
    """The whole picture as a ``side × side`` input, as Fashion-MNIST's were made: light on
    dark (a picture on light paper is inverted), its grey levels kept (a picture of the
    frame's size comes back exactly as its pixels / 255), fitted into the frame keeping its
    aspect and centred, with black around it."""
    img = _grey(pixels)
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    if np.median(border) > 0.5:                 # dark ink on light paper
        img = 1.0 - img
    h, w = img.shape
    if (h, w) != (side, side):
        scale = side / max(h, w)
        new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
        small = resize_area(img, new_h, new_w)
        img = np.zeros((side, side))
        top, left = (side - new_h) // 2, (side - new_w) // 2
        img[top:top + new_h, left:left + new_w] = small
    return np.clip(img, 0.0, 1.0).reshape(-1)


def resize_area(img, rows, cols):
    """Resize a 2-D array by area averaging (an exact box filter): each output pixel is the
    mean of the input it covers, fractional pixels weighted by their covered fraction."""
    return _area_weights(img.shape[0], rows) @ img @ _area_weights(img.shape[1], cols).T


def _area_weights(n_in, n_out):
    """``(n_out, n_in)`` matrix: row i averages the input interval [i, i+1)·n_in/n_out."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]               # (n_out, 1)
    j = np.arange(n_in)[None, :]                             # (1, n_in)
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / (n_in / n_out)


#: The largest picture :func:`read_image` reads: preparing one takes tens of bytes a pixel.
MAX_PICTURE_PIXELS = 40_000_000


def read_image(path):
    """Grey levels ``(rows, cols)`` float64 in ``[0, 1]`` from a picture file (needs Pillow).

    Transparent pixels are laid on white paper first, so a PNG of dark strokes on a
    transparent background reads as dark ink on white. A photo whose EXIF tag says it is
    stored rotated is turned the way viewers show it. 16-bit greyscale is scaled by 65535;
    32-bit integer and floating-point pictures are refused (their white level is unknown).
    """
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:
        raise ConfigError("reading PNG/JPEG files needs Pillow: pip install 'bprop[images]' "
                          "(or pip install pillow)") from None
    path = Path(path)
    check_regular_file(path, "a picture file (PNG, JPEG, ...)", DataError)
    try:
        with Image.open(path) as im:
            width, height = im.size         # from the header: nothing decoded yet
            if width * height > MAX_PICTURE_PIXELS:
                raise DataError(f"{path.name} is {width}x{height} pixels "
                                f"({width * height / 1e6:,.0f} megapixels); bprop prepares "
                                f"pictures of at most {MAX_PICTURE_PIXELS // 10**6} "
                                f"megapixels (tens of bytes each): scale it down first")
            im.load()
            picture_format = im.format
            im = ImageOps.exif_transpose(im)
            if im.mode.startswith("I;16") or (im.mode == "I" and picture_format == "PNG"):
                # 16-bit greyscale (older Pillow opens a 16-bit PNG as "I"); convert("L")
                # would clip every level above 255 to white
                return np.asarray(im, dtype=np.float64) / 65535.0
            if im.mode in ("I", "F"):
                kind = "32-bit integer" if im.mode == "I" else "floating-point"
                raise DataError(f"{path.name} has {kind} pixels, whose white level is not "
                                f"known; save it as an 8- or 16-bit picture")
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(paper, rgba)
            grey = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except (FileNotFoundError, DataError):  # not a damaged image: said already
        raise
    except UnidentifiedImageError:
        raise DataError(f"{path.name} is not an image Pillow can read") from None
    except Image.DecompressionBombError:
        raise DataError(f"{path.name} is too large a picture to read (Pillow's limit is "
                        f"{2 * Image.MAX_IMAGE_PIXELS:,} pixels); scale it down first") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise DataError(f"cannot read image {path.name}: {e}") from None
    return grey


def ascii_art(x, side):
    """A ``side x side`` input as text, darkest to brightest ' .:-=+*#%@' (for --show)."""
    ramp = " .:-=+*#%@"
    img = np.asarray(x, dtype=np.float64).reshape(side, side)
    idx = np.clip((img * (len(ramp) - 1)).round().astype(int), 0, len(ramp) - 1)
    return ["".join(ramp[k] * 2 for k in row) for row in idx]


# -- helpers ------------------------------------------------------------------------------------
def _grey(pixels):
    a = np.asarray(pixels)
    if a.ndim != 2 or min(a.shape) == 0:
        raise ShapeError(f"an image must be a non-empty 2-D array; got shape {a.shape}")
    if a.dtype.kind in "iub":
        grey = a.astype(np.float64)     # a new array, which the caller may change in place
        grey /= 255.0
        return grey
    if a.dtype.kind != "f":
        raise DataError(f"image pixels must be numbers; got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise DataError("the image contains non-finite values")
    grey = a.astype(np.float64)
    return np.clip(grey, 0.0, 1.0, out=grey)


def _paper(img):
    """``(paper, noise)``: the paper's grey level over the whole picture, a quadratic
    surface in the row and column fitted to the border pixels (so that light falling off
    across the sheet, or toward its corners, is taken away with it), and the standard
    deviation of the border around that surface (median absolute deviation × 1.4826: noise,
    grain). Border pixels more than 3 deviations off (ink that touches the edge) are left
    out of the fit."""
    rows, cols = img.shape
    r = np.concatenate([np.zeros(cols), np.full(cols, rows - 1), np.arange(rows),
                        np.arange(rows)])
    c = np.concatenate([np.arange(cols), np.arange(cols), np.zeros(rows),
                        np.full(rows, cols - 1)])
    v = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    level = float(np.median(v))
    v = v - level               # fitted around the median: flat paper comes out exactly flat
    # rows and columns scaled to [-1, 1], so that the quadratic terms are well conditioned
    A = np.column_stack(_quadratic_terms(2.0 * r / max(rows - 1, 1) - 1.0,
                                         2.0 * c / max(cols - 1, 1) - 1.0))
    # first the border pixels near its median (ink touching the edge left out), then the
    # surface through them, twice
    spread = np.abs(v)
    keep = spread <= 3.0 * 1.4826 * float(np.median(spread)) + 1e-9
    for _ in range(2):
        coef = np.linalg.lstsq(A[keep], v[keep], rcond=None)[0]
        residual = v - A @ coef
        centre = np.median(residual[keep])
        noise = 1.4826 * float(np.median(np.abs(residual[keep] - centre)))
        keep = np.abs(residual - centre) <= 3.0 * noise + 1e-9
    terms = _quadratic_terms(np.linspace(-1.0, 1.0, rows)[:, None],
                             np.linspace(-1.0, 1.0, cols)[None, :])
    return level + sum(k * t for k, t in zip(coef, terms)), noise


def _quadratic_terms(u, w):
    """1, u, w, u², w², uw: the surface a paper's light makes, to first and second order."""
    return [np.ones_like(u * w), u, w, u * u, w * w, u * w]


def _blur3(img):
    """The mean of each 3x3 neighbourhood that lies inside the image, ``(rows - 2, cols - 2)``
    (the image itself when it is smaller than 3x3)."""
    if min(img.shape) < 3:
        return img
    out = np.zeros((img.shape[0] - 2, img.shape[1] - 2))
    for dr in range(3):
        for dc in range(3):
            out += img[dr:dr + out.shape[0], dc:dc + out.shape[1]]
    return out / 9.0


def _box(mask):
    """``((first row, last row + 1), (first col, last col + 1))`` of the True entries."""
    return _extent(mask.any(axis=1)), _extent(mask.any(axis=0))


def _extent(mask):
    """``(first, last + 1)`` of the True entries of a 1-D mask."""
    idx = np.flatnonzero(mask)
    return int(idx[0]), int(idx[-1]) + 1


def _centre_of_mass(img):
    """``(row, col)`` of the intensity-weighted centre of a 2-D array."""
    total = float(img.sum())
    if total <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    rows = np.arange(img.shape[0]) @ img.sum(axis=1) / total
    cols = np.arange(img.shape[1]) @ img.sum(axis=0) / total
    return float(rows), float(cols)
