# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1 · The data: MNIST
#
# **What you will learn**
# - what the variational autoencoder (VAE) of these notebooks will do with the digits, in one paragraph;
# - how `vaelib` loads MNIST into three sets of tensors: training, validation and test images with their labels;
# - what the digits look like, how many there are of each, and what values the pixels take;
# - why the data is split in three, and how a mini-batch is cut from it.
#
# **What you need**
# - the project installed: run `make test` or `make run` once (README, Quickstart), which creates `.venv` and installs
#   `vaelib`, or `pip install -e ".[dev]"` in an environment of your own; then this notebook opened in JupyterLab with
#   the *Python 3* kernel;
# - MNIST: `vaelib` downloads it (about 11 MB) on first use, or reads it from the folder in `VAELIB_DATA_DIR`.
#
# Run the cells from top to bottom (Shift+Enter). Every code cell is short and is followed by what it shows.

# %%
# %matplotlib inline
import torch

import vaelib
from vaelib.notebook import figures

# %% [markdown]
# ## Where this is going: the VAE in one paragraph
#
# These notebooks build a **variational autoencoder** (VAE), a model that learns to draw new digits. It is two
# networks. The **encoder** reads an image, 784 pixel values, and sums it up in a short **code** z: just two numbers
# here (16 in notebook 04); more exactly, it gives a small cloud of likely codes, and training draws one z from it.
# The **decoder** reads a code and draws the image back: for every pixel, the probability p that it is ink. It treats
# each pixel as a **coin flip** that comes up ink with probability p and background otherwise (a **Bernoulli**
# distribution), because that gives a simple loss: an ink pixel costs $-\ln p$, a background pixel $-\ln(1-p)$,
# measured in **nats**, the unit of natural logarithms (an outcome of probability p costs $-\ln p$ nats; notebook 02
# has more). So the loss is small exactly when the decoder is confident about the pixels the image really has.
# Training minimises the sum of two terms: that **reconstruction term** (how badly the decoded probabilities fit
# the original) and the **KL term** (how far the encoder's codes stray from a standard normal distribution). The
# second term is what makes the VAE generative: codes drawn at random from the standard normal then decode to new
# digits. Notebook **02_model** builds the model and derives this loss (the negative ELBO). This notebook looks at
# the data it learns from, and checks how well its pixels fit the coin-flip picture.
#
# ## Loading
#
# `vaelib.load_mnist()` reads the 70,000 images once and keeps them in memory. It returns three `vaelib.Digits`
# (a set of digit images with their labels), one per split: `images` of shape `(N, 1, 28, 28)` (N images, 1 grey
# channel, 28 × 28 pixels) with values in [0, 1], and `labels` of shape `(N,)`.

# %%
mnist = vaelib.load_mnist()
for name, digits in mnist._asdict().items():
    print(f"{name:<6} images {tuple(digits.images.shape)}  {digits.images.dtype}   labels {tuple(digits.labels.shape)}")

# %% [markdown]
# Three splits: 55,000 images to train on, 5,000 to validate with, 10,000 to test. Each image is a `float32` tensor.

# %% [markdown]
# ## What the digits look like
#
# The first twelve training images of each class, one row per digit. Handwriting varies a lot within a class:
# slant, stroke width, closed or open loops. A good generative model has to capture that variety, not one average digit.

# %%
figures.class_examples_figure(mnist.train, per_class=12)

# %% [markdown]
# ## How many of each digit?
#
# A generative model learns the frequencies too: if one digit were rare, it would also be rare among the samples.

# %%
counts = {name: torch.bincount(digits.labels, minlength=10) for name, digits in mnist._asdict().items()}
print("digit  " + "".join(f"{d:>7}" for d in range(10)))
for name, c in counts.items():
    print(f"{name:<6} " + "".join(f"{n:>7}" for n in c.tolist()))

# %%
figures.class_counts_figure(mnist._asdict())

# %%
shares = torch.stack([c / c.sum() for c in counts.values()])  # (3 splits, 10 digits)
print(f"each digit's share: from {shares.min():.1%} to {shares.max():.1%}")
print(f"in the training set: most common {int(counts['train'].argmax())}, rarest {int(counts['train'].argmin())}")
between = (shares.max(dim=0).values - shares.min(dim=0).values).max()
print(f"largest difference between the splits in one digit's share: {between:.1%}")
assert shares.min() > 0.085 and shares.max() < 0.12 and between < 0.01

# %% [markdown]
# The classes are roughly balanced, between 8.9 % and 11.6 % each (in the training set 1 is the most common digit,
# 5 the rarest), and the three splits have nearly the same proportions: a digit's share differs between them by at
# most 0.7 percentage points.

# %% [markdown]
# ## Pixel values
#
# The decoder's coin flips describe pixels that are either background (0) or ink (1). How close does MNIST come to
# that? First the values of all 43 million training pixels, then their histogram.

# %%
pixels = mnist.train.images
print(f"min {pixels.min():.1f}   max {pixels.max():.1f}   mean {pixels.mean():.4f}   std {pixels.std():.4f}")
print(
    f"exactly 0 (background): {(pixels == 0).float().mean():.1%}   inked (above 0): {(pixels > 0).float().mean():.1%}"
)

# %%
figures.pixel_histogram_figure(pixels)

# %% [markdown]
# Two tall bars, at 0 and at 1, and a flat band between them. The vertical scale is logarithmic, which makes the
# band look thin; but it runs across the whole range, so together its bars hold many pixels. Counted:

# %%
inked = pixels[pixels > 0]
near_one, grey, faint = inked >= 0.9, (inked > 0.1) & (inked < 0.9), inked <= 0.1
print("of the inked training pixels:")
print(f"  near 1 (0.9 and above):          {near_one.float().mean():6.1%}")
print(f"  grey (between 0.1 and 0.9):      {grey.float().mean():6.1%}")
print(f"  faint (above 0, 0.1 and below):  {faint.float().mean():6.1%}")
assert near_one.float().mean() < 0.5 and grey.float().mean() > 0.4  # under half of the ink is near 1

# %% [markdown]
# About four pixels in five are exactly 0 (80.9 %): background. But the ink is not mostly near 1: only 45.8 % of
# the inked pixels are 0.9 or above, and almost as many, 45.3 %, are grey, between 0.1 and 0.9. They are the edges
# of the strokes: when MNIST was made, each digit was scaled down to fit a 20 × 20 box, with anti-aliasing, so a
# pixel that a stroke only partly covers came out grey (Solution 3 finds the same share on the test set).
# So the coin-flip picture fits the background and the cores of the strokes, and is only an approximation for the
# grey edges: a grey pixel is not a coin that came up 0 or 1. The VAE uses the Bernoulli loss on grey pixels all the
# same, with the grey value as the target, and Solution 3 shows what that costs. The mean intensity, 0.1306, is what
# a "blank" model would predict everywhere.

# %% [markdown]
# ## Why three splits?
#
# - **train** (55,000): the model's weights are fitted to these.
# - **validation** (5,000): held out from the original 60,000 training images. After every epoch we measure the loss
#   here; it tells us when the model stops improving and which checkpoint is the *best* one. Because we use it to make
#   choices, it is no longer a fully fair judge.
# - **test** (10,000): MNIST's official test set. Touch it only to report the final number, so that it measures how
#   the model does on digits it has never been tuned on.
#
# The validation images are picked with a fixed seed, so the split is the same on every machine and in every run:

# %%
from vaelib.core.data import SPLIT_SEED, VAL_SIZE

print(f"validation images: {VAL_SIZE}, chosen with seed {SPLIT_SEED}")
again = vaelib.load_mnist()
print("same split when loaded again:", torch.equal(again.val.images, mnist.val.images))
print("first validation labels:", mnist.val.labels[:12].tolist())

# %% [markdown]
# ## Mini-batches
#
# Training looks at a small random batch at a time. `vaelib.batches` slices batches straight from the tensors in
# memory (no per-image conversion), shuffled with a seeded generator so that a run can be repeated exactly.

# %%
first = next(vaelib.batches(mnist.train, batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0)))
print("batch images", tuple(first.images.shape), "labels", tuple(first.labels.shape))
print("labels of the first 16:", first.labels[:16].tolist())

# %%
figures.mosaic_figure(first.images[:32], nrow=16, title="a shuffled training batch (first 32 of 128)")

# %% [markdown]
# ## Recap
#
# - A VAE encodes an image into a short code z and decodes z back into a probability of ink for every pixel; its
#   loss is a reconstruction term plus a KL term (notebook 02).
# - `vaelib.load_mnist()` returns `mnist.train`, `mnist.val`, `mnist.test`, each a `vaelib.Digits` with `images`
#   `(N, 1, 28, 28)` in [0, 1] and `labels` `(N,)`.
# - The ten classes are roughly balanced. Four pixels in five are background (0); the ink is split about evenly
#   between pixels near 1 and grey stroke edges. The decoder treats every pixel as a coin flip (Bernoulli): exact for
#   the background and the stroke cores, an approximation at the edges.
# - Train to fit, validation to choose, test to report; the split is fixed by a seed.
# - `vaelib.batches` cuts shuffled mini-batches from memory.
#
# Next: **02_model**, the encoder, the decoder and the loss.
#
# ## Exercises
#
# 1. **Hard digits.** Show 20 examples of the digit you find hardest to read (hint:
#    `mnist.test.images[mnist.test.labels == 8]` and `figures.mosaic_figure`). Which ones would *you* get wrong? Then
#    let the project's digit classifier read the whole test set (`vaelib.core.classifier.load_classifier` and
#    `vaelib.core.classifier.predict_proba`): which digit does it get wrong most often, and what do the 20 test images
#    it is least sure of look like?
# 2. **The average digit.** Compute the mean image of each class (`images.mean(dim=0)`) and draw the ten means with
#    `figures.mosaic_figure`. What does the average "1" look like compared with the average "8"? Put a number on it: the
#    brightest pixel of each mean image, and how far the images of a class lie from their mean.
# 3. **Grey pixels.** What fraction of the test pixels lies strictly between 0.1 and 0.9, and what fraction of the
#    inked (non-zero) ones? Would a model that outputs only 0 or 1 be a good fit? (Hint: the loss of one pixel of
#    grey value x when the decoder says p is the binary cross-entropy −[x ln p + (1 − x) ln(1 − p)],
#    `torch.nn.functional.binary_cross_entropy(p, x)`; try x = 0.3 and a few values of p.)
#
# ### Solution 1
#
# The first 20 eights of the test set:

# %%
eights = mnist.test.images[mnist.test.labels == 8]
figures.mosaic_figure(eights[:20], title="the first 20 eights of the test set")

# %% [markdown]
# Now the classifier (a small convolutional network trained on the training images; it ships inside the package).
# Its mistakes on the 10,000 test digits, per class:

# %%
from vaelib.core.classifier import load_classifier, predict_proba

probs = predict_proba(load_classifier(), mnist.test.images)
guess, sureness = probs.argmax(dim=1), probs.max(dim=1).values
wrong = guess != mnist.test.labels
print(f"wrong: {int(wrong.sum())} of {len(wrong):,} ({wrong.float().mean():.2%})")
print("digit  " + "".join(f"{d:>6}" for d in range(10)))
print("wrong  " + "".join(f"{int(wrong[mnist.test.labels == d].sum()):>6}" for d in range(10)))
hardest = max(range(10), key=lambda d: wrong[mnist.test.labels == d].float().mean())
print(f"most often wrong, as a share of its class: {hardest}")

# %% [markdown]
# The 20 test images it is least sure of (the lowest top probability). Under each, "label→guess probability": the
# true label, the classifier's guess, and the probability it gives that guess.

# %%
unsure = sureness.argsort()[:20]
labels, guesses, tops = mnist.test.labels[unsure].tolist(), guess[unsure].tolist(), sureness[unsure].tolist()
print(f"wrong: {int(wrong[unsure].sum())} of 20; top probability between {min(tops):.2f} and {max(tops):.2f}")
assert max(tops) < 0.55  # not one of them gets much more than an even chance
captions = [f"{label}→{g} {top:.2f}" for label, g, top in zip(labels, guesses, tops, strict=True)]
figures.captioned_mosaic_figure(mnist.test.images[unsure], captions, nrow=10)

# %% [markdown]
# The classifier gets 77 of the 10,000 test digits wrong, under 1 %, and the 9s most often (17 of them). Its 20
# least certain cases are digits written in unusual ways; it gets 13 of them wrong, and it never gives any of
# them more than 0.54 probability. Several would make a person hesitate too: the second, a thick 9 whose loop is
# open at the top (guessed 0); the sixth, a 3 with a pointed, Z-like top (guessed 7); in the second row a 4 whose
# top is closed like a 9's (guessed 9) and a 2 drawn as an L (guessed 4). A generative model meets the same
# variety: a good one must be able to produce such digits too.
#
# ### Solution 2

# %%
means = torch.stack([mnist.train.images[mnist.train.labels == d].mean(dim=0) for d in range(10)])
figures.mosaic_figure(means, title="the mean training image of each digit")

# %%
print("digit                     " + "".join(f"{d:>6}" for d in range(10)))
print("brightest pixel of mean   " + "".join(f"{m.max():6.2f}" for m in means))
spread = torch.stack([(mnist.train.images[mnist.train.labels == d] - means[d]).pow(2).mean().sqrt() for d in range(10)])
print("rms distance from mean    " + "".join(f"{s:6.3f}" for s in spread))
brightest = means.flatten(1).max(dim=1).values
assert brightest.argmax() == 1 and spread.argmin() == 1  # the 1s: the brightest mean stroke, the closest to it
assert brightest[8] < brightest[1] and spread[8] > spread[1]  # the 8s: a fainter, blurrier mean

# %% [markdown]
# The average 1 is a thin, bright bar: 1s vary little except in slant, so their mean keeps a sharp stroke whose
# brightest pixel is 0.97 (almost every 1 inks it), and the images of 1s lie closest to their mean (0.169 per
# pixel, root mean square). The average 8 is a wider, blurrier shape with faint loops: 8s differ in slant, size and
# the shape of their loops, so the mean blurs (brightest pixel 0.83, distance 0.241). A mean image is what a
# model that knew nothing but the class would draw; a generative model has to draw one particular 8, not the
# average of all of them.
#
# ### Solution 3

# %%
test_pixels = mnist.test.images
grey = (test_pixels > 0.1) & (test_pixels < 0.9)
print(f"strictly between 0.1 and 0.9: {grey.float().mean():.1%} of all test pixels")
print(f"                              {grey[test_pixels > 0].float().mean():.1%} of the inked ones")

# %% [markdown]
# The loss of one grey pixel, x = 0.3, for a few decoder outputs p:

# %%
import torch.nn.functional as F

x = 0.3
p = torch.tensor([0.01, 0.1, 0.3, 0.5, 0.9, 0.99])
cost = F.binary_cross_entropy(p, torch.full_like(p, x), reduction="none")
print(f"grey value x = {x}")
print("p      " + "".join(f"{v:7.2f}" for v in p.tolist()))
print("nats   " + "".join(f"{c:7.3f}" for c in cost.tolist()))
assert cost.argmin() == 2  # smallest at p = x
assert (cost[:2].diff() < 0).all() and (cost[2:].diff() > 0).all()  # and growing on both sides of it

# %% [markdown]
# Only 8.6 % of all test pixels are grey, but they make up 44.6 % of the inked ones: the edges of every stroke.
# A model that outputs only 0 or 1 would be a poor fit. For a grey pixel the loss is smallest when the decoder
# says p = x (0.611 nats at p = x = 0.3), and it grows without bound as p approaches 0 or 1: p = 0.99 already costs
# 3.227 nats, and p = 1 infinitely many (ln 0 = −∞). So the VAE's decoder outputs a probability strictly between
# 0 and 1 for every pixel. Even a perfect decoder pays 0.611 nats for such a pixel (the minimum is not 0), which
# is one reason why the −ELBO on grey MNIST never gets near 0. (Papers often train on binarised MNIST instead,
# each pixel drawn as 0 or 1; `vae-train --data binary` does that.)
#
# ## Further reading
#
# - Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, *Gradient-Based Learning Applied to Document Recognition*,
#   Proceedings of the IEEE 86(11), 1998: the paper that introduced MNIST (and LeNet-5, the ancestor of the
#   classifier used in Solution 1).
# - The torchvision documentation of
#   [`torchvision.datasets.MNIST`](https://docs.pytorch.org/vision/stable/generated/torchvision.datasets.MNIST.html),
#   which `vaelib.load_mnist` uses to download the files (it reads them itself, with `vaelib.core.data.read_idx`).
