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
# # 5 · Walking the latent space
#
# **What you will learn**
# - how to travel from one real digit to another through the latent space, in a straight line (*lerp*) or along
#   an arc (*slerp*), and why the arc matters in more than two dimensions;
# - how to turn such a walk into an animation;
# - how to explore the latent space by hand with sliders, and jump to random codes or to the nearest real digit;
# - how to ask an unconditional VAE for a *chosen* digit, and how often that works.
#
# **What you need**
# - notebook **04_generation** (loading a model, the prior, the encoded test set in the latent plane);
# - nothing to train: this notebook uses the 2-D model shipped inside the package (`vaelib/weights/`), so its pictures and
#   numbers are the same on every run. The sliders need a live kernel (JupyterLab with the *Python 3* kernel).

# %%
# %matplotlib inline
import torch
from IPython.display import Image, display

import vaelib
from vaelib import conditional, explorer, latent, plots
from vaelib.classifier import load_classifier

# %% [markdown]
# ## The model and the test digits

# %%
model, ckpt = vaelib.load_model(vaelib.pretrained_path(2))
data = vaelib.load_mnist()
print(f"latent_dim {model.config.latent_dim}, trained {ckpt['epoch']} epochs; {len(data.test):,} test digits")

# %% [markdown]
# ## Two real digits
#
# Pick the two ends of the walk by class (the first test digit of that class) or directly by index into the test
# set. Change `START_DIGIT` and `END_DIGIT` (or set the indices) and re-run the cells below.

# %%
START_DIGIT, END_DIGIT = 1, 7
start = int(torch.nonzero(data.test.labels == START_DIGIT)[0])
end = int(torch.nonzero(data.test.labels == END_DIGIT)[0])
print(f"start: test #{start} (a {START_DIGIT}),  end: test #{end} (a {END_DIGIT})")

# %% [markdown]
# Each end is encoded to its mean code $\mu(x)$: two points in the plane.

# %%
pair = vaelib.Split(data.test.images[[start, end]], data.test.labels[[start, end]])
z0, z1 = latent.encode_means(model, pair)
print("z0 =", [round(v, 3) for v in z0.tolist()], "  z1 =", [round(v, 3) for v in z1.tolist()])
plots.grid_figure(pair.images, nrow=2, title="the two ends", scale=1.0)

# %% [markdown]
# ## Linear interpolation (lerp)
#
# The straight line $z(t) = (1 - t)\,z_0 + t\,z_1$ for $t$ from 0 to 1. Decoding ten evenly spaced points gives a
# strip that morphs one digit into the other. The first and last images are the *reconstructions* of the two real
# digits, not the digits themselves.

# %%
line = latent.interpolate(z0, z1, steps=10, method="lerp")
plots.grid_figure(latent.codes_to_images(model, line), nrow=10, title="lerp: z0 → z1")

# %% [markdown]
# ## Spherical interpolation (slerp)
#
# Slerp follows the arc between the two codes, rotating the direction while blending the length:
#
# $$z(t) = \frac{\sin((1-t)\,\Omega)}{\sin \Omega}\, z_0 + \frac{\sin(t\,\Omega)}{\sin \Omega}\, z_1, \qquad \cos\Omega = \frac{z_0 \cdot z_1}{\lVert z_0\rVert\,\lVert z_1\rVert}.$$
#
# Why bother? Codes drawn from $\mathcal N(0, I)$ in $d$ dimensions almost all have length close to
# $\sqrt d$: they live on a thin shell. The midpoint of a straight line between two such codes is shorter (about
# $\sqrt{d/2}$ for two independent ones), a place the prior almost never samples and the decoder was rarely
# trained on. The arc keeps the length typical. In two dimensions the shell is not thin and both paths are
# reasonable; they just take different routes (the arc bulges outwards):

# %%
arc = latent.interpolate(z0, z1, steps=10, method="slerp")
plots.grid_figure(latent.codes_to_images(model, arc), nrow=10, title="slerp: z0 → z1")

# %%
print("t      |z| lerp   |z| slerp")
for t, a, b in zip(torch.linspace(0, 1, 10).tolist(), line.norm(dim=1).tolist(), arc.norm(dim=1).tolist(), strict=True):
    print(f"{t:4.2f}   {a:8.3f}   {b:9.3f}")

# %% [markdown]
# Both paths drawn on the map of the encoded test set (the dots are the 10,000 test digits, coloured by label):

# %%
test_codes = latent.encode_means(model, data.test)
plots.latent_scatter_figure(
    test_codes, data.test.labels, size=5, paths={"lerp": line, "slerp": arc}, title=f"test #{start} → test #{end}"
)

# %% [markdown]
# In 16 dimensions the difference is large. The same two digits, encoded by the 16-D model shipped with the
# repository: the straight line sags towards the origin, far inside the shell of typical lengths
# ($\sqrt{16} = 4$), while the arc stays on it.

# %%
model16, _ = vaelib.load_model(vaelib.pretrained_path(16))
w0, w1 = latent.encode_means(model16, pair)
for method in ("lerp", "slerp"):
    lengths = latent.interpolate(w0, w1, steps=5, method=method).norm(dim=1)
    print(f"{method:5}  |z| at t = 0, 1/4, 1/2, 3/4, 1:", [round(v, 2) for v in lengths.tolist()])

# %% [markdown]
# ## An animated walk
#
# Decode many closely spaced points of the path and play them as a GIF (made with Pillow), forwards and back.

# %% tags=["nbval-ignore-output"]
walk = latent.interpolate(z0, z1, steps=30, method="slerp")
display(Image(data=plots.gif_bytes(latent.codes_to_images(model, walk), scale=4, duration_ms=60), format="gif"))

# %% [markdown]
# To keep it, write the bytes to a file: `Path("walk.gif").write_bytes(plots.gif_bytes(...))`.

# %% [markdown]
# ## Interpolation, interactively
#
# The same walk as a widget: choose the two ends by class or by test index, slide $t$, switch between lerp and
# slerp. The digit decoded at $t$ is shown large, the path and the current point are drawn on the map, and the
# strip below shows the whole path. (The widgets need a running kernel: in a notebook opened without running it
# you see nothing here.)

# %% tags=["nbval-ignore-output"]
explorer.InterpolationExplorer(model, data.test, start=start, end=end)

# %% [markdown]
# ## Generating a chosen digit
#
# The VAE never saw a label, so `model.sample` gives a random digit. But the encoder puts the training images of
# each class into their own region of the latent plane. Model that region, draw $z$ from it and decode: a
# **class-conditional** sample, "generate a 7", with no retraining. `vaelib.conditional` offers three models of a
# class's region, all fitted to encoded training images (the first 10,000, about 1,000 per class):
#
# - `"gaussian"`: one Gaussian per class, the mean and full covariance of the class's codes $\mu(x)$;
# - `"posterior"`: the *aggregate posterior* of the class, the mixture of $q(z \mid x)$ over its training images.
#   To sample, pick a random training image of the class and draw $z \sim \mathcal N(\mu(x), \sigma(x)^2)$;
# - `"typical"`: the same, but only over the class's *typical* images: those whose code has a majority of its own
#   class among its 20 nearest codes.

# %%
train = data.train.head(conditional.FIT_IMAGES)
train_mu, train_sigma = latent.encode_posteriors(model, train)
densities = {
    kind: conditional.densities_from_codes(train_mu, train_sigma, train.labels, kind)
    for kind in ("gaussian", "posterior", "typical")
}
typical = densities["typical"]
print(f"{len(train):,} training images encoded, {len(typical.labels):,} of them typical of their class")
print(
    "typical per digit:",
    {d: f"{(typical.labels == d).sum().item()}/{(train.labels == d).sum().item()}" for d in range(10)},
)

# %% [markdown]
# Ten samples of each digit from the typical images' region (row $d$ asked for digit $d$):

# %%
generator = torch.Generator().manual_seed(0)
rows = torch.cat([conditional.sample_digits(model, typical, d, 10, generator) for d in range(10)])
plots.grid_figure(rows, nrow=10, title="class-conditional samples, digits 0-9 (typical images)")

# %% [markdown]
# ### How often is it the digit we asked for?
#
# A judge is needed: the small classifier that ships with the repository (`vaelib.classifier`, about 99 % accurate
# on real test digits). Generate 100 digits of each class with a fixed seed and count how many the judge
# recognises as the class asked for.

# %%
judge = load_classifier()
scores = {
    kind: conditional.recognition(model, density, judge, per_class=100, seed=0) for kind, density in densities.items()
}
print(f"{'digit asked for':<16}" + "".join(f"{d:>6}" for d in range(10)) + "     mean")
for kind, score in scores.items():
    print(f"{kind:<16}" + "".join(f"{r:6.0%}" for r in score.rates.tolist()) + f"   {score.mean:6.1%}")

# %% [markdown]
# Which digit did the judge see instead? Rows: the digit asked for; columns: what was recognised (row percentages).

# %%
plots.confusion_figure(scores["posterior"].confusion, title="2-D model, aggregate posterior")

# %% [markdown]
# **Why some digits hide under others.** Look back at the map of the test set: in two dimensions there is not
# enough room for ten classes. 4 and 9 share one region, and 3, 5 and 8 crowd each other: an upright 4 and a 9
# differ in a few pixels at the top, and the encoder, which must squeeze every digit into two numbers, places them
# on top of each other. Where two classes overlap, the decoder has to draw *one* image for a code, and it draws the
# class that is more common or more typical there. So a code drawn from the 4s' region decodes into a 9, however
# well the region is modelled. Row 4 of the grid above shows it: every "4" came out as a 9.
#
# That is why the three densities rank as they do. The single Gaussian is the crudest: the classes' regions are
# curved and uneven, and its ellipse spills into the neighbours. The aggregate posterior follows each region's
# true shape, but the region itself overlaps others. Keeping only the typical images avoids the overlap and gets
# most digits right, at a price: the unusual ways of writing a digit (the 5s that sit among the 3s) are never
# generated. And it cannot recover what the 2-D bottleneck has thrown away entirely: if no code decodes into a
# clear 4, no choice of codes makes a 4.

# %%
plots.confusion_figure(scores["typical"].confusion, title="2-D model, typical images")

# %% [markdown]
# With 16 dimensions there is room: the same recipe with the 16-D model.

# %%
mu16, sigma16 = latent.encode_posteriors(model16, train)
print(f"{'16-D model':<16}" + "".join(f"{d:>6}" for d in range(10)) + "     mean")
for kind in ("gaussian", "posterior", "typical"):
    score = conditional.recognition(
        model16, conditional.densities_from_codes(mu16, sigma16, train.labels, kind), judge, per_class=100, seed=0
    )
    print(f"{kind:<16}" + "".join(f"{r:6.0%}" for r in score.rates.tolist()) + f"   {score.mean:6.1%}")

# %% [markdown]
# The command line does the same: `vae-generate --digit 7 --num_samples 20` writes a grid of sevens (with the 2-D
# model by default; add `--checkpoint` with the path `vaelib.pretrained_path(16)` prints for the 16-D one).

# %% [markdown]
# ## The latent explorer
#
# Everything together. The sliders set $z_1$ and $z_2$ and the digit decoded from $z$ is redrawn at once; the red
# dot on the map shows where $z$ is. The buttons jump to a random code from the prior, or snap to the nearest real
# test digit (its index, label and image are shown below the map), and the row of digits draws a code from that
# class's typical region. For a model with more than two latent dimensions, the sliders move $z$ along the
# first principal directions of the encoded test set instead (try `explorer.LatentExplorer(model16, data.test)`).

# %% tags=["nbval-ignore-output"]
explorer.LatentExplorer(model, data.test, density=typical)

# %% [markdown]
# Things to try: slide along the border between the 4s and the 9s and watch the digit switch; snap to the nearest
# test digit from a random code and compare the real image with its decoded code; press 4 a few times and see how
# often a 9 comes out.

# %% [markdown]
# ## Recap
#
# - `latent.interpolate(z0, z1, steps, method)` walks between two codes: `"lerp"` along a line, `"slerp"` along an arc
#   that keeps the length typical of the prior. In 2-D both are reasonable routes; in 16-D the line sags towards
#   the origin, where the prior has almost no codes.
# - `plots.gif_bytes` turns decoded frames into an animation.
# - `explorer.InterpolationExplorer` and `explorer.LatentExplorer` make the latent space explorable with sliders;
#   each move decodes one code in a few milliseconds.
# - An unconditional VAE can generate a chosen digit by sampling from the region its encoder gives that class
#   (`vaelib.conditional`). In 2-D the classes overlap, so some digits (4 under 9, 3/5/8) are often generated as
#   their neighbour; sampling only the typical images of a class helps, except where a class has no region of its
#   own. The 16-D model keeps the classes apart.
#
# ## Exercises
#
# 1. Interpolate between two digits of the *same* class (say two different 2s, by index). Does the path stay a 2
#    all the way? Compare with a walk between a 4 and a 9.
# 2. Measure the recognition rate of samples from the prior, `model.sample(1000)`, with `judge`: which digits does
#    the 2-D model generate most often when nobody asks for a class? Compare with the class counts of notebook 01.
# 3. Build `explorer.LatentExplorer(model16, data.test)`. How much does the first principal direction change the
#    digit, compared with the fourth?
