#!/usr/bin/env python
"""Draw the sample pictures beside this script (written here, not taken from a data set):

* ``seven.png``: a handwritten-looking 7, dark ink on white paper, 120x120, for a model
  trained on the digits or MNIST (``bprop predict`` centres it as MNIST's digits were);
* ``trousers.png``: a pair of trousers, light on black, 28x28, as Fashion-MNIST's pictures
  are (``bprop predict`` fits it whole into the frame).

Usage:  python examples/pictures/draw.py   (needs Pillow)
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent


def seven():
    im = Image.new("L", (120, 120), 255)
    pen = ImageDraw.Draw(im)
    pen.line([(28, 26), (92, 22)], fill=20, width=11)           # the top bar
    pen.line([(92, 22), (52, 100)], fill=20, width=11)          # the stroke down
    return im.filter(ImageFilter.GaussianBlur(1.2))


def trousers():
    a = np.zeros((28, 28), np.uint8)
    a[3:7, 8:20] = 200                                          # the waistband
    for left in (8, 15):                                        # two legs, a gap between
        a[7:26, left:left + 5] = 170
    a[7:26, 13:15] = 0
    return Image.fromarray(a)


if __name__ == "__main__":
    seven().save(HERE / "seven.png")
    trousers().save(HERE / "trousers.png")
    print("wrote", HERE / "seven.png", "and", HERE / "trousers.png")
