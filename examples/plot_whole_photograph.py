"""
A defect in a whole photograph, found by a detector fitted on small crops
=========================================================================

Surface inspection fits a detector on small crops of normal surface, then
inspects photographs much larger than a crop. :mod:`skanomaly.tiling` scores
a whole photograph tile by tile, each tile the size of the training crops,
and stitches the tiles' anomaly maps into one map of the photograph (tiles
overlap by half; a pixel gets the mean of the tiles that cover it), as
anomalib's tiler does.

Here the surface is scikit-image's brick photograph (512 x 512 grey, bundled
with scikit-image: ``pip install 'skanomaly[textures]'``). The detector is
:class:`~skanomaly.MultiScalePatchKNN`, the package's position-free texture
detector, fitted on 64-pixel crops of the photograph's left half; the right
quarter, 256 x 256 pixels and never seen in training, gets one stain of
:func:`~skanomaly.datasets.make_texture_defects` and is inspected whole.
"""

# %%
# Normal crops for training, a defective photograph for inspection
# ------------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from skanomaly import MultiScalePatchKNN
from skanomaly.datasets import load_texture, make_texture_defects
from skanomaly.metrics import pixel_auroc
from skanomaly.tiling import tiled_anomaly_map, tiled_score_samples

photo = load_texture("brick").astype(np.float64) / 255  # (512, 512), values in [0, 1]
left, right = photo[:, :256], photo[256:, 256:]  # the lower right quarter: 256 x 256

rng = np.random.RandomState(0)
crop = 64
ys = rng.randint(0, 512 - crop + 1, size=150)
xs = rng.randint(0, 256 - crop + 1, size=150)
crops = np.stack([left[y:y + crop, x:x + crop] for y, x in zip(ys, xs)])

# one stain, about 30 pixels across (0.12 of the inspected part's side)
inspected, mask, _ = make_texture_defects(right[None], kinds=("stain",), size=(0.12, 0.12),
                                          random_state=1)
inspected, mask = inspected[0], mask[0]
print(f"training crops: {crops.shape}; inspected photograph: {inspected.shape}, "
      f"defect: {int(mask.sum())} pixels")

# %%
# Fit on the crops; map the whole photograph by tiles
# ----------------------------------------------------
# A smaller bank than the default keeps this example fast; the benchmark
# (``python -m skanomaly.benchmark --dataset textures``) runs the defaults.
detector = MultiScalePatchKNN(n_bank=4000, random_state=0).fit(crops)
photo_map = tiled_anomaly_map(detector, inspected[None], tile_size=crop)[0]
clean_map = tiled_anomaly_map(detector, right[None], tile_size=crop)[0]

print(f"pixel AUROC of the stitched map: {pixel_auroc(mask[None], photo_map[None]):.3f}")
scores = tiled_score_samples(detector, np.stack([right, inspected]), tile_size=crop)
print(f"photograph's score (its worst tile), clean: {scores[0]:.2f}, "
      f"with the stain: {scores[1]:.2f} (lower is more abnormal)")

# %%
# The photograph, the defect's mask and the stitched map
# ------------------------------------------------------
# The map's colour scale is shared with the map of the clean photograph, so
# that its other bright spots read as what the detector finds unusual in
# normal brick. Seen here (seed 0): the stain lights up, but so do a few
# mortar joints, whose angle drifts across the photograph (its perspective);
# the stitched map's pixel AUROC is about 0.95, and the photograph's score
# (its worst tile) moves only a little. Small defects on a textured surface
# are hard: the benchmark's table (``docs/benchmarks.rst``, Textures) gives
# every detector's figures on crops.
vmax = max(photo_map.max(), clean_map.max())
fig, axes = plt.subplots(1, 4, figsize=(10, 3))
for ax, image, title in zip(
        axes, [inspected, mask, photo_map, clean_map],
        ["inspected (lower right)", "defect mask", "stitched anomaly map",
         "map of the clean quarter"]):
    kwargs = {"cmap": "gray"} if title in ("inspected (lower right)", "defect mask") else {
        "cmap": "inferno", "vmin": 0, "vmax": vmax}
    ax.imshow(image, **kwargs)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
