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
# - how to explore the latent space by hand with sliders, jump to random codes or to the nearest real digit, and
#   draw a code from the region of a chosen digit;
# - what each of the explorers' controls does and over which range, in a table read from the widgets themselves.
#
# **What you need**
# - notebook **04_generation** (loading a model, the prior, the encoded test set in the latent plane, and the class
#   regions behind "generate a chosen digit", which the explorer's digit buttons use);
# - nothing to train: this notebook uses the 2-D model shipped inside the package (`vaelib/weights/`), so its pictures and
#   numbers are the same on every run. The sliders need a live kernel (JupyterLab with the *Python 3* kernel);
#   without one, the screenshots below each explorer show what it looks like.

# %%
# %matplotlib inline
from pathlib import Path

import torch
from IPython.display import Image, Markdown, display

import vaelib
from vaelib.core import conditional, latent, measures
from vaelib.core.classifier import load_classifier, predict_proba
from vaelib.notebook import explorer, figures

# %% [markdown]
# ## The model and the test digits

# %%
model, ckpt = vaelib.load_model(vaelib.pretrained_path(2))
mnist = vaelib.load_mnist()
print(f"latent_dim {model.config.latent_dim}, trained {ckpt['epoch']} epochs; {len(mnist.test):,} test digits")

# %% [markdown]
# ## Two real digits
#
# Pick the two ends of the walk by class (the first test digit of that class) or directly by index into the test
# set. Change `START_DIGIT` and `END_DIGIT` (or set the indices) and re-run the cells below.

# %%
START_DIGIT, END_DIGIT = 1, 7
start = int(torch.nonzero(mnist.test.labels == START_DIGIT)[0])
end = int(torch.nonzero(mnist.test.labels == END_DIGIT)[0])
print(f"start: test #{start} (a {START_DIGIT}),  end: test #{end} (a {END_DIGIT})")

# %% [markdown]
# Each end is encoded to its mean code $\mu(x)$: two points in the plane, `z_start` and `z_end` (each has two
# coordinates, $z_1$ and $z_2$).

# %%
pair = vaelib.Digits(mnist.test.images[[start, end]], mnist.test.labels[[start, end]])
z_start, z_end = latent.encode_means(model, pair)
print("z_start =", [round(v, 3) for v in z_start.tolist()], "  z_end =", [round(v, 3) for v in z_end.tolist()])
figures.mosaic_figure(pair.images, nrow=2, title="the two ends", scale=1.0)

# %% [markdown]
# ## Linear interpolation (lerp)
#
# The straight line $z(t) = (1 - t)\,z_\mathrm{start} + t\,z_\mathrm{end}$ for $t$ from 0 to 1. Decoding ten evenly
# spaced points gives a strip that morphs one digit into the other. The first and last images are the
# *reconstructions* of the two real digits, not the digits themselves.

# %%
line = latent.interpolate(z_start, z_end, steps=10, method="lerp")
figures.mosaic_figure(latent.codes_to_images(model, line), nrow=10, title="lerp: z_start → z_end")

# %% [markdown]
# ## Spherical interpolation (slerp)
#
# Slerp follows the arc between the two codes, rotating the direction while blending the length:
#
# $$z(t) = \frac{\sin((1-t)\,\Omega)}{\sin \Omega}\, z_\mathrm{start} + \frac{\sin(t\,\Omega)}{\sin \Omega}\,
# z_\mathrm{end}, \qquad \cos\Omega = \frac{z_\mathrm{start} \cdot z_\mathrm{end}}{\lVert z_\mathrm{start}\rVert\,
# \lVert z_\mathrm{end}\rVert}.$$
#
# Why bother? Codes drawn from $\mathcal N(0, I)$ in $d$ dimensions almost all have length close to
# $\sqrt d$: they live on a thin shell. The midpoint of a straight line between two such codes is shorter (about
# $\sqrt{d/2}$ for two independent ones), a place the prior almost never samples and the decoder was rarely
# trained on. The arc keeps the length typical. In two dimensions the shell is not thin and both paths are
# reasonable; they just take different routes (the arc bulges outwards):

# %%
arc = latent.interpolate(z_start, z_end, steps=10, method="slerp")
figures.mosaic_figure(latent.codes_to_images(model, arc), nrow=10, title="slerp: z_start → z_end")

# %%
print("t      |z| lerp   |z| slerp")
for t, a, b in zip(torch.linspace(0, 1, 10).tolist(), line.norm(dim=1).tolist(), arc.norm(dim=1).tolist(), strict=True):
    print(f"{t:4.2f}   {a:8.3f}   {b:9.3f}")

# %% [markdown]
# Both paths drawn on the map of the encoded test set (the dots are the 10,000 test digits, coloured by label; the
# paths are black, so that no path is mistaken for a class):

# %%
test_codes = latent.encode_means(model, mnist.test)
figures.latent_scatter_figure(
    test_codes, mnist.test.labels, size=5, paths={"lerp": line, "slerp": arc}, title=f"test #{start} → test #{end}"
)

# %% [markdown]
# In 16 dimensions the difference is large. The same two digits, encoded by the 16-D model shipped with the
# repository: the straight line sags towards the origin, far inside the shell of typical lengths
# ($\sqrt{16} = 4$), while the arc stays on it.

# %%
model16, _ = vaelib.load_model(vaelib.pretrained_path(16))
z16_start, z16_end = latent.encode_means(model16, pair)
for method in ("lerp", "slerp"):
    lengths = latent.interpolate(z16_start, z16_end, steps=5, method=method).norm(dim=1)
    print(f"{method:5}  |z| at t = 0, 1/4, 1/2, 3/4, 1:", [round(v, 2) for v in lengths.tolist()])

# %% [markdown]
# ## An animated walk
#
# Decode many closely spaced points of the path and play them as a GIF (made with Pillow), forwards and back.

# %% tags=["nbval-ignore-output"]
walk = latent.interpolate(z_start, z_end, steps=30, method="slerp")
display(Image(data=figures.gif_bytes(latent.codes_to_images(model, walk), scale=4, duration_ms=60), format="gif"))

# %% [markdown]
# To keep it, write the bytes to a file: `Path("walk.gif").write_bytes(figures.gif_bytes(...))`.

# %% [markdown]
# ## Interpolation, interactively
#
# The same walk as a widget: choose the two ends by class or by test index, slide $t$, switch between lerp and
# slerp. The digit decoded at $t$ is shown large, the path and the current point are drawn on the map, and the
# strip below shows the whole path.

# %% tags=["nbval-ignore-output"]
walker = explorer.InterpolationExplorer(model, mnist.test, start=start, end=end)
walker

# %% [markdown]
# The widgets need a running kernel: in a notebook viewed without one (on GitHub, say) the cell above shows no
# working widget. So here is what it looks like: a screenshot taken in JupyterLab after picking slerp and moving
# $t$ past the middle. `make screenshots` (the script `tools/screenshots.py`) drives both explorers in a headless
# browser, as a learner would, and saves these pictures in `notebooks/images/`.

# %%
screenshots = Path(vaelib.__file__).resolve().parents[1] / "notebooks" / "images"  # the repository's notebooks/images
Image(filename=str(screenshots / "interpolation_explorer.png"))

# %% [markdown]
# Its controls, each with its range and what it does, read from the widget itself (`explorer.controls_table`, so
# the table cannot drift from the widget); the value column is where each control stands now, which is where it
# starts until you move it:

# %%
Markdown(explorer.controls_table(walker))

# %% [markdown]
# ## The latent explorer
#
# Everything together. The sliders set $z_1$ and $z_2$ and the digit decoded from $z$ is redrawn at once (a few
# milliseconds per move); the red dot on the map shows where $z$ is. The buttons jump to a random code from the
# prior, or snap to the nearest real test digit (its index, label and image are shown below the map), and the row
# of digits draws a code from that class's region. Those regions are the *typical images'* class densities of
# notebook 04 ("Generating a chosen digit"), fitted to the first 10,000 training images:

# %%
density = conditional.class_densities(model, mnist.train.head(conditional.FIT_IMAGES))
print(f"{len(density.labels):,} typical training images, {int((density.labels == 4).sum())} of them 4s")

# %% tags=["nbval-ignore-output"]
latent_explorer = explorer.LatentExplorer(model, mnist.test, density=density)
latent_explorer

# %% [markdown]
# What it looks like in JupyterLab, after dragging the sliders into the 0s and pressing *Nearest digit*:

# %%
Image(filename=str(screenshots / "latent_explorer.png"))

# %% [markdown]
# Its controls (each slider's range covers all the encoded test digits):

# %%
Markdown(explorer.controls_table(latent_explorer))

# %% [markdown]
# Things to try: slide from the 9s up into the 7s and watch the digit switch, then across the 4s and see that it
# never becomes a 4; snap to the nearest test digit from a random code and compare the real image with its decoded
# code; press 4 a few times and see a 9 come out (notebook 04, "Why no 4 comes out", explains why).
#
# ### More than two latent dimensions
#
# For a model with more than two latent dimensions, two sliders cannot reach every code, so the sliders move $z$
# along the first four *principal directions* of the encoded test set instead. These are the directions along
# which the codes vary most: take the codes, subtract their mean, and a singular value decomposition (SVD) of that
# centred matrix gives orthogonal unit directions, ordered by how much of the codes' variance lies along each. In
# a few lines, for the 16-D model, checked against the explorer's own `explorer.Projection`:

# %%
codes16 = latent.encode_means(model16, mnist.test)  # (10000, 16)
centred = codes16 - codes16.mean(0)
_, singular_values, directions = torch.linalg.svd(centred, full_matrices=False)  # directions: (16, 16), rows
variances = singular_values**2 / (len(codes16) - 1)  # the codes' variance along each direction
projection = explorer.Projection(codes16, n_sliders=4)
assert torch.allclose(directions @ directions.T, torch.eye(16), atol=1e-4)  # orthogonal unit directions
assert (variances[:-1] >= variances[1:]).all()  # ordered: the most variance first
assert torch.allclose((directions[:4] * projection.basis).sum(1).abs(), torch.ones(4), atol=1e-4)  # same (up to sign)
print(f"{len(directions)} principal directions; the explorer's sliders move along the first {len(projection.basis)}")

# %% [markdown]
# Exercise 3 asks how different those directions are.
#
# ## Recap
#
# - `latent.interpolate(z_start, z_end, steps, method)` walks between two codes: `"lerp"` along a line, `"slerp"`
#   along an arc that keeps the length typical of the prior. In 2-D both are reasonable routes; in 16-D the line
#   sags towards the origin, where the prior has almost no codes.
# - `figures.gif_bytes` turns decoded frames into an animation.
# - `explorer.InterpolationExplorer` and `explorer.LatentExplorer` make the latent space explorable with sliders;
#   each move decodes one code in a few milliseconds. The explorer's digit buttons sample the class regions of
#   notebook 04. For more than two latent dimensions the sliders follow the principal directions of the codes.
# - Without a kernel the widgets are blank: the screenshots show them, and `explorer.controls_table` lists every
#   control and its range.
#
# ## Exercises
#
# 1. **Where does the 1 become a 7?** Drive the interpolation explorer from code instead of by hand. Make one for
#    the two ends above (`ie = explorer.InterpolationExplorer(model, mnist.test, start=start, end=end)`), and for
#    t = 0, 0.05, …, 1 set its slider (`ie.t.value = t`) and read its code (`ie.z`), once on the lerp path and
#    once on the slerp path (`ie.method.value`). At each t, ask the judge (`load_classifier()`, the small
#    classifier of notebook 04) which digit the decoded code shows, and look up the label of the nearest encoded
#    test digit (the colour of the map under the red dot). At which t does each first say 7? Where is the judge
#    least sure?
# 2. **Does the arc help in 16-D?** For 200 random pairs of test digits, decode the midpoint ($t = 1/2$) of the
#    lerp and of the slerp path with the 16-D model. Compare the midpoints' lengths $|z|$ and how sure the judge is
#    of the decoded digits.
# 3. **The explorer in 16-D.** `explorer.LatentExplorer(model16, mnist.test)` moves $z$ along the first four
#    principal directions of the encoded test set (its `projection`). How much more do the codes spread along the
#    first direction than along the fourth? How much does the decoded digit change when you move along each?
#
# ### Solution 1

# %%
ie = explorer.InterpolationExplorer(model, mnist.test, start=start, end=end)
ts = torch.linspace(0, 1, 21).tolist()
walks = {}  # method -> the codes at t = 0, 0.05, ..., 1, as the explorer computes them
for method in ("lerp", "slerp"):
    ie.method.value = method
    walks[method] = []
    for t in ts:
        ie.t.value = t  # what dragging the slider does: the explorer redraws, and ie.z is the code at t
        walks[method].append(ie.z)
    walks[method] = torch.stack(walks[method])
frames = {method: latent.codes_to_images(model, codes) for method, codes in walks.items()}
figures.image_rows_figure(frames)

# %%
judge = load_classifier()
print(f"test #{start} (a {START_DIGIT}) → test #{end} (a {END_DIGIT})")
print("t                  ", " ".join(f"{t:.2f}" for t in ts))
first_seven, least_sure = {}, {}
for method, codes in walks.items():
    probs = predict_proba(judge, frames[method])  # (21, 10)
    judged, certainty = probs.argmax(1).tolist(), probs.max(1).values
    nearest = [int(mnist.test.labels[(test_codes - z).pow(2).sum(1).argmin()]) for z in codes]
    first_seven[method] = {"judge": ts[judged.index(7)], "map": ts[nearest.index(7)]}
    least_sure[method] = (ts[int(certainty.argmin())], certainty.min().item())
    print(f"{method:5} judge       ", "    ".join(map(str, judged)))
    print(f"{method:5} nearest code", "    ".join(map(str, nearest)))
    print(f"{method:5} certainty   ", " ".join(f"{p:.2f}" for p in certainty.tolist()))
for method, first in first_seven.items():
    t_unsure, p_unsure = least_sure[method]
    print(
        f"{method}: the first 7 at t = {first['judge']:.2f} for the judge, {first['map']:.2f} on the map;"
        f" the judge is least sure at t = {t_unsure:.2f} ({p_unsure:.2f})"
    )
    assert 0 <= first["judge"] - first["map"] <= 0.05 + 1e-6  # the judge switches at most one step after the map
    assert first["map"] - 0.05 - 1e-6 <= t_unsure <= first["judge"] + 1e-6  # and is least sure at the switch
assert (
    first_seven["slerp"]["judge"] > first_seven["lerp"]["judge"]
    and first_seven["slerp"]["map"] > first_seven["lerp"]["map"]
)

# %% [markdown]
# On both paths the map predicts the judge: the decoded digit turns into a 7 where the path leaves the 1s' region
# for the 7s' on the map, or one step of 0.05 later, and the judge is least sure right at that switch (0.34 on the
# line, 0.48 on the arc). The arc switches later, at 0.65 against 0.60 for the line: it bulges over the top of the
# 1s (the map above) and so stays longer among them. So when you slide $t$ by hand, the colour under the red dot
# tells you, to within a step, which digit the judge will see.
#
# ### Solution 2

# %%
ends = torch.randperm(len(mnist.test), generator=torch.Generator().manual_seed(0))[:400].reshape(200, 2)
midpoints = {
    method: torch.stack(
        [latent.interpolate(codes16[i], codes16[j], steps=3, method=method)[1] for i, j in ends.tolist()]
    )
    for method in ("lerp", "slerp")
}
sureness, lengths = {}, {}
for method, z in midpoints.items():
    sureness[method] = predict_proba(judge, latent.codes_to_images(model16, z)).max(1).values.double()  # (200,)
    lengths[method] = z.norm(dim=1).mean().item()
    print(
        f"{method:5}: mean |z| at t = 1/2 {lengths[method]:.2f}; judge's mean certainty {sureness[method].mean():.2f}"
    )
typical_length = codes16.norm(dim=1).mean().item()
print(f"mean |z| of the encoded test digits: {typical_length:.2f}")
gain = sureness["slerp"] - sureness["lerp"]  # paired: the same 200 pairs on both paths
print(f"certainty, slerp minus lerp: {gain.mean():.3f} ± {measures.standard_error(gain):.3f} (standard error)")
assert lengths["lerp"] < 0.8 * typical_length and abs(lengths["slerp"] - typical_length) < 0.1
assert gain.mean() > 2 * measures.standard_error(gain)

# %% [markdown]
# The straight line's midpoints are much shorter than the encoded digits' codes (and than the $\sqrt{16} = 4$ of
# typical prior samples); the arc's are as long as the codes. The judge is a little surer of the arc's midpoints,
# by more than two standard errors of the paired difference: the decoder does better where it was trained.
#
# ### Solution 3

# %%
explorer16 = explorer.LatentExplorer(model16, mnist.test)  # show it in a cell of its own to use the sliders
projection = explorer16.projection
steps = torch.linspace(-2, 2, 9)
along = {  # from -2 to +2 along each slider, the other sliders at 0
    f"PC{k + 1}": latent.codes_to_images(model16, projection.origin + steps[:, None] * projection.basis[k])
    for k in range(len(projection.basis))
}
figures.image_rows_figure(along)

# %%
spreads = projection.coords(codes16).std(0)  # (4,): the codes' spread along each principal direction
change = torch.tensor([(images[-1] - images[0]).abs().mean().item() for images in along.values()])
print("spread of the codes along PC1-PC4:", [round(v, 2) for v in spreads.tolist()])
print("mean pixel change from -2 to +2:  ", [round(v, 3) for v in change.tolist()])
print(f"the digit changes most along PC{int(change.argmax()) + 1}, least along PC{int(change.argmin()) + 1}")
assert spreads[0] / spreads[3] < 1.25 and change.min() > 0.1
assert (spreads[:-1] >= spreads[1:]).all() and int(change.argmax()) == 1 and int(change.argmin()) == 3

# %% [markdown]
# The codes spread almost equally along all four directions (1.16 against 1.04): the KL term pulls the aggregate
# posterior towards $\mathcal N(0, I)$, which has no preferred direction, so the "first" principal direction is
# first by a small margin only. Each of the four changes the digit clearly, and the order of the spreads does not
# predict the order of the changes: the second direction changes the digit most, the fourth least.
#
# ## Further reading
#
# - D. P. Kingma, M. Welling, *Auto-Encoding Variational Bayes*, ICLR 2014.
# - D. J. Rezende, S. Mohamed, D. Wierstra, *Stochastic Backpropagation and Approximate Inference in Deep Generative
#   Models*, ICML 2014.
# - D. P. Kingma, M. Welling, *An Introduction to Variational Autoencoders*, Foundations and Trends in Machine
#   Learning, 2019.
# - T. White, *Sampling Generative Networks*, arXiv:1609.04468, 2016 (spherical interpolation for latent spaces).
