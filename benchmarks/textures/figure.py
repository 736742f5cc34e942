"""The figure of docs/benchmarks.rst's textures section: test crops, masks, maps.

For each texture (seed 0, the benchmark's split: 300 normal 64-pixel training
crops, the test crops with defects), one defective test crop of each defect
kind, its mask, and the anomaly map of each localising detector of the table
(the pixel kNN, the raw 7x7 patch kNN, MultiScalePatchKNN at its defaults),
each map scaled to its own range over the crops shown::

    python benchmarks/textures/figure.py --out docs/images/textures_maps.png
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from skanomaly import KNNDetector, MultiScalePatchKNN
from skanomaly.benchmark import PatchKNN
from skanomaly.datasets import TEXTURE_DEFECT_KINDS, TEXTURES, load_texture, make_texture_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="textures_maps.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    photos = {name: load_texture(name) for name in TEXTURES}
    detectors = {"pixel kNN": lambda: KNNDetector(),
                 "raw 7x7 patch kNN": lambda: PatchKNN(random_state=args.seed),
                 "MultiScalePatchKNN": lambda: MultiScalePatchKNN(random_state=args.seed)}
    n_rows = 2 + len(detectors)
    fig, axes = plt.subplots(n_rows, len(TEXTURES) * len(TEXTURE_DEFECT_KINDS),
                             figsize=(1.2 * len(TEXTURES) * len(TEXTURE_DEFECT_KINDS), 1.3 * n_rows))
    for t, name in enumerate(TEXTURES):
        others = np.stack([photos[o][None] for o in TEXTURES if o != name])
        split = make_texture_split(photos[name], crop_size=64, n_train=300, n_validation=0,
                                   n_test=200, source=others, random_state=args.seed)
        shown = [int(np.flatnonzero(split.kinds_test == kind)[0]) for kind in TEXTURE_DEFECT_KINDS]
        X = split.X_test[shown]
        rows = [("crop", X.reshape(len(shown), 64, 64), "gray"),
                ("mask", split.masks_test[shown], "gray")]
        for label, make in detectors.items():
            detector = make().fit(split.X_train)
            rows.append((label, detector.anomaly_map(X), "inferno"))
            print(name, label, "fitted", flush=True)
        for r, (label, images, cmap) in enumerate(rows):
            for k, image in enumerate(images):
                ax = axes[r, t * len(shown) + k]
                kwargs = ({"vmin": np.min(images), "vmax": np.max(images)} if cmap == "inferno"
                          else {})
                ax.imshow(image, cmap=cmap, **kwargs)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"{name}\n{TEXTURE_DEFECT_KINDS[k]}", fontsize=7)
                if t == 0 and k == 0:
                    ax.set_ylabel(label, fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
