"""The shared base of skanomaly's estimators.

* :mod:`._estimator`: the template of the image estimators (input, seeding,
  the device, batched inference, pickling), of those with a skorch-trained
  network, and of the detectors;
* :mod:`._outlier`: the outlier-detector contract (``offset_`` from
  ``contamination``, ``decision_function``, ``predict``), shared by the
  detectors, :class:`~skanomaly.TrimmedDetector`,
  :class:`~skanomaly.CombinedDetector` and the benchmark's peers;
* :mod:`._validation` and :mod:`._convert`: input validation and conversion
  as plain functions; :mod:`._dataset`: a torch ``Dataset`` seen as an array;
* :mod:`._net`: the skorch engine (:class:`DetectorNet`) and the
  class-balanced batches.
"""

from ._convert import as_float32, to_tensor
from ._dataset import DatasetImages, item_to_array
from ._estimator import (
    AnomalyMapMixin,
    BaseDeepDetector,
    BaseDeepEstimator,
    BaseDetector,
    BaseImageEstimator,
    EmbeddingMixin,
    ReconstructionMixin,
    gradient_map,
    resolve_device,
    seeded,
    store_params,
)
from ._net import BalancedBatchSampler, DetectorNet, balanced_loader, set_cosine_lr
from ._outlier import CONTAMINATION_CONSTRAINT, OutlierDetectorMixin, offset_from_scores
from ._validation import check_finite_scores, check_labels, fold_shape, validate_images

__all__ = [
    "CONTAMINATION_CONSTRAINT",
    "AnomalyMapMixin",
    "BalancedBatchSampler",
    "BaseDeepDetector",
    "BaseDeepEstimator",
    "BaseDetector",
    "BaseImageEstimator",
    "DatasetImages",
    "DetectorNet",
    "EmbeddingMixin",
    "OutlierDetectorMixin",
    "ReconstructionMixin",
    "as_float32",
    "balanced_loader",
    "check_finite_scores",
    "check_labels",
    "fold_shape",
    "gradient_map",
    "item_to_array",
    "offset_from_scores",
    "resolve_device",
    "seeded",
    "set_cosine_lr",
    "store_params",
    "to_tensor",
    "validate_images",
]
