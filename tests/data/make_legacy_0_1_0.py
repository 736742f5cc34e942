"""Fitted detectors saved by skanomaly 0.1.0 (before the package layout of issue 13).

Run with skanomaly 0.1.0 installed (it uses 0.1.0's parameter names); the files
it wrote are committed and must not be re-saved by a later version (importing
this module does nothing: pytest's --doctest-modules imports every module).
"""
import json

import numpy as np

from skanomaly import (
    AnoGAN,
    AutoEncoder,
    CNNFeatures,
    CNNOneClassSVM,
    DualDiscGAN,
    TrimmedDetector,
    save,
)


def main():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 8, 8).astype(np.float32)
    y = np.where(np.arange(40) < 6, -1, 1)
    Xs = rng.rand(5, 1, 8, 8).astype(np.float32)
    models = {
      "autoencoder": AutoEncoder(n_filters=4, latent_dim=2, max_epochs=1, random_state=0).fit(X, y),
      "dualdiscgan": DualDiscGAN(n_filters=4, max_epochs=1, random_state=0).fit(X, y),
      "anogan": AnoGAN(n_filters=4, latent_dim=4, max_epochs=1, encoder_epochs=1, random_state=0).fit(X),
      "cnn_rotation": CNNOneClassSVM(n_filters=4, max_epochs=1, random_state=0).fit(X),
      "cnn_combined": CNNOneClassSVM(n_filters=4, max_epochs=1, anomaly_score="combined", random_state=0).fit(X),
      "cnn_features": CNNFeatures(n_filters=4, max_epochs=1, random_state=0).fit(X),
      "trimmed_ae": TrimmedDetector(AutoEncoder(n_filters=4, latent_dim=2, max_epochs=1, random_state=0), contamination=0.1, n_rounds=1, random_state=0).fit(X),
    }
    out = {}
    for name, m in models.items():
        save(m, f"tests/data/legacy_0.1.0_{name}.pt")
        out[name] = (m.transform(Xs) if name == "cnn_features" else m.score_samples(Xs)).tolist()
    np.save("tests/data/legacy_0.1.0_X.npy", Xs)
    with open("tests/data/legacy_0.1.0_outputs.json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":  # not on import: pytest --doctest-modules imports it
    main()
