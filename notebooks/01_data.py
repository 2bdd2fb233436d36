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
# 1. Show 20 examples of the digit you find hardest to read (hint: `data.test.images[data.test.labels == 8]` and
#    `plots.grid_figure`). Which ones would *you* get wrong?
# 2. Compute the mean image of each class (`images.mean(dim=0)`) and draw the ten means with `plots.grid_figure`.
#    What does the average "1" look like compared with the average "8"?
# 3. What fraction of pixels lies strictly between 0.1 and 0.9 in the test set? Would a model that outputs only
#    0 or 1 be a good fit?
