"""skanomaly: image anomaly detectors that are scikit-learn estimators.

Every detector follows scikit-learn's outlier-detector conventions: lower
``score_samples`` is more abnormal, ``decision_function = score_samples -
offset_``, ``predict`` gives +1 (normal) or -1 (anomaly), and labels passed
to ``fit`` use the same code.
"""

from ._autoencoder import AutoEncoder
from .exceptions import TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "TrainingDivergedError",
    "__version__",
]
