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
# - how `vaelib` loads MNIST into three tensors: training, validation and test images with their labels;
# - what the digits look like, how many there are of each, and what values the pixels take;
# - why the data is split in three, and how a mini-batch is cut from it.
#
# **What you need**
# - the project installed (`make setup`, see the README) and this notebook opened in JupyterLab with the *Python 3* kernel;
# - MNIST: `vaelib` downloads it (about 11 MB) on first use, or reads it from the folder in `VAELIB_DATA_DIR`.
#
# Run the cells from top to bottom (Shift+Enter). Every code cell is short and is followed by what it shows.

# %%
# %matplotlib inline
import torch

import vaelib
from vaelib import plots

# %% [markdown]
# ## Loading
#
# `vaelib.load_mnist()` reads the 70,000 images once and keeps them in memory as one float tensor per split:
# shape `(N, 1, 28, 28)` (N images, 1 grey channel, 28 × 28 pixels) with values in [0, 1], plus a label tensor `(N,)`.

# %%
data = vaelib.load_mnist()
for name, split in data._asdict().items():
    print(f"{name:<6} images {tuple(split.images.shape)}  {split.images.dtype}   labels {tuple(split.labels.shape)}")

# %% [markdown]
# Three splits: 55,000 images to train on, 5,000 to validate with, 10,000 to test. Each image is a `float32` tensor.

# %% [markdown]
# ## What the digits look like
#
# The first twelve training images of each class, one row per digit. Handwriting varies a lot within a class:
# slant, stroke width, closed or open loops. A good generative model has to capture that variety, not one average digit.

# %%
plots.class_examples_figure(data.train, per_class=12)

# %% [markdown]
# ## How many of each digit?
#
# A generative model learns the frequencies too: if one digit were rare, it would also be rare among the samples.

# %%
counts = {name: torch.bincount(split.labels, minlength=10) for name, split in data._asdict().items()}
print("digit  " + "".join(f"{d:>7}" for d in range(10)))
for name, c in counts.items():
    print(f"{name:<6} " + "".join(f"{n:>7}" for n in c.tolist()))

# %%
plots.class_counts_figure(data._asdict())

# %% [markdown]
# The classes are roughly balanced (between about 9 % and 11.5 % each: 1 is the most common digit, 5 the rarest),
# and the three splits have nearly the same proportions.

# %% [markdown]
# ## Pixel values
#
# The decoder of our VAE outputs, for every pixel, the probability that it is "on" (a Bernoulli distribution).
# That fits MNIST because most pixels are either black (0) or nearly white (1), as the statistics and the histogram show.

# %%
pixels = data.train.images
print(f"min {pixels.min():.1f}   max {pixels.max():.1f}   mean {pixels.mean():.4f}   std {pixels.std():.4f}")
print(f"exactly 0: {(pixels == 0).float().mean():.1%}   above 0.5: {(pixels > 0.5).float().mean():.1%}")

# %%
plots.pixel_histogram_figure(pixels)

# %% [markdown]
# About four pixels in five are exactly 0 (background); of the rest, most sit near 1 (ink) and a thinner band is
# grey, at the edges of the strokes. The mean intensity (about 0.13) is what a "blank" model would predict everywhere.

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
print(f"validation images: {vaelib.data.VAL_SIZE}, chosen with seed {vaelib.data.SPLIT_SEED}")
again = vaelib.load_mnist()
print("same split when loaded again:", torch.equal(again.val.images, data.val.images))
print("first validation labels:", data.val.labels[:12].tolist())

# %% [markdown]
# ## Mini-batches
#
# Training looks at a small random batch at a time. `vaelib.batches` slices batches straight from the tensors in
# memory (no per-image conversion), shuffled with a seeded generator so that a run can be repeated exactly.

# %%
first = next(vaelib.batches(data.train, batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0)))
print("batch images", tuple(first.images.shape), "labels", tuple(first.labels.shape))
print("labels of the first 16:", first.labels[:16].tolist())

# %%
plots.grid_figure(first.images[:32], nrow=16, title="a shuffled training batch (first 32 of 128)")

# %% [markdown]
# ## Recap
#
# - `vaelib.load_mnist()` returns `data.train`, `data.val`, `data.test`; each has `images` `(N, 1, 28, 28)` in [0, 1]
#   and `labels` `(N,)`.
# - The ten classes are roughly balanced; pixels are mostly 0 or close to 1, which is why the decoder models each
#   pixel as a Bernoulli variable.
# - Train to fit, validation to choose, test to report; the split is fixed by a seed.
# - `vaelib.batches` cuts shuffled mini-batches from memory.
#
# Next: **02_model**, the encoder, the decoder and the loss.
#
# ## Exercises
#
# 1. **Hard digits.** Show 20 examples of the digit you find hardest to read (hint:
#    `data.test.images[data.test.labels == 8]` and `plots.grid_figure`). Which ones would *you* get wrong? Then let
#    the project's digit classifier read the whole test set (`vaelib.classifier.load_classifier` and
#    `vaelib.classifier.predict_proba`): which digit does it get wrong most often, and what do the 20 test images it
#    is least sure of look like?
# 2. **The average digit.** Compute the mean image of each class (`images.mean(dim=0)`) and draw the ten means with
#    `plots.grid_figure`. What does the average "1" look like compared with the average "8"? Put a number on it: the
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
eights = data.test.images[data.test.labels == 8]
plots.grid_figure(eights[:20], title="the first 20 eights of the test set")

# %% [markdown]
# Now the classifier (a small convolutional network trained on the training images; it ships inside the package).
# Its mistakes on the 10,000 test digits, per class:

# %%
from vaelib.classifier import load_classifier, predict_proba

probs = predict_proba(load_classifier(), data.test.images)
guess, sureness = probs.argmax(dim=1), probs.max(dim=1).values
wrong = guess != data.test.labels
print(f"wrong: {int(wrong.sum())} of {len(wrong):,} ({wrong.float().mean():.2%})")
print("digit  " + "".join(f"{d:>6}" for d in range(10)))
print("wrong  " + "".join(f"{int(wrong[data.test.labels == d].sum()):>6}" for d in range(10)))
hardest = max(range(10), key=lambda d: wrong[data.test.labels == d].float().mean())
print(f"most often wrong, as a share of its class: {hardest}")

# %% [markdown]
# The 20 test images it is least sure of (the lowest top probability), with their labels and its guesses:

# %%
unsure = sureness.argsort()[:20]
print("label:", data.test.labels[unsure].tolist())
print("guess:", guess[unsure].tolist())
low, high = sureness[unsure].min(), sureness[unsure].max()
print(f"wrong: {int(wrong[unsure].sum())} of 20; top probability between {low:.2f} and {high:.2f}")
plots.grid_figure(data.test.images[unsure], title="the 20 test digits the classifier is least sure of")

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
means = torch.stack([data.train.images[data.train.labels == d].mean(dim=0) for d in range(10)])
plots.grid_figure(means, title="the mean training image of each digit")

# %%
print("digit                     " + "".join(f"{d:>6}" for d in range(10)))
print("brightest pixel of mean   " + "".join(f"{m.max():6.2f}" for m in means))
spread = [(data.train.images[data.train.labels == d] - means[d]).pow(2).mean().sqrt() for d in range(10)]
print("rms distance from mean    " + "".join(f"{s:6.3f}" for s in spread))

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
test_pixels = data.test.images
grey = (test_pixels > 0.1) & (test_pixels < 0.9)
print(f"strictly between 0.1 and 0.9: {grey.float().mean():.1%} of all test pixels")
print(f"                              {grey[test_pixels > 0].float().mean():.1%} of the inked ones")

# %% [markdown]
# The loss of one grey pixel, x = 0.3, for a few decoder outputs p:

# %%
import torch.nn.functional as F

p = torch.tensor([0.01, 0.1, 0.3, 0.5, 0.9, 0.99])
cost = F.binary_cross_entropy(p, torch.full_like(p, 0.3), reduction="none")
print("p      " + "".join(f"{v:7.2f}" for v in p.tolist()))
print("nats   " + "".join(f"{c:7.3f}" for c in cost.tolist()))

# %% [markdown]
# Only 8.6 % of all test pixels are grey, but they make up 44.6 % of the inked ones: the edges of every stroke.
# A model that outputs only 0 or 1 would be a poor fit. For a grey pixel the loss is smallest when the decoder
# says p = x (0.611 nats at p = x = 0.3), and it grows without bound as p approaches 0 or 1: p = 0.99 already costs
# 3.227 nats, and p = 1 infinitely many (ln 0 = −∞). So the VAE's decoder outputs a probability strictly between
# 0 and 1 for every pixel. Even a perfect decoder pays 0.611 nats for such a pixel (the minimum is not 0), which
# is one reason why the −ELBO on grey MNIST never gets near 0. (Papers often train on binarised MNIST instead,
# each pixel drawn as 0 or 1; `vae-train --data binary` does that, see the README.)
#
# ## Further reading
#
# - Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, *Gradient-Based Learning Applied to Document Recognition*,
#   Proceedings of the IEEE 86(11), 1998: the paper that introduced MNIST (and LeNet-5, the ancestor of the
#   classifier used in Solution 1).
# - The torchvision documentation of
#   [`torchvision.datasets.MNIST`](https://docs.pytorch.org/vision/stable/generated/torchvision.datasets.MNIST.html),
#   which `vaelib.load_mnist` uses to download and read the files.
