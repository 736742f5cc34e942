"""The shared base of skanomaly's estimators.

* :mod:`._estimator`: the template of the torch-backed estimators
  (parameters, ``fit``, seeding, the device, the skorch training run,
  batched inference, pickling) and of the detectors;
* :mod:`._outlier`: the outlier-detector contract (``offset_`` from
  ``contamination``, ``decision_function``, ``predict``), shared by the deep
  detectors, :class:`~skanomaly.TrimmedDetector` and the benchmark's peers;
* :mod:`._validation` and :mod:`._convert`: input validation and conversion
  as plain functions; :mod:`._dataset`: a torch ``Dataset`` seen as an array;
* :mod:`._net`: the skorch engine (:class:`DetectorNet`) and the
  class-balanced batches.
"""

from ._components import (
    KNN_NEIGHBORS,
    gaussian_deviation,
    gaussian_moments,
    knn_distance,
    pixel_components,
    row_digests,
)
from ._convert import as_float32, to_tensor
from ._dataset import DatasetImages, item_to_array
from ._estimator import (
    AnomalyMapMixin,
    BaseDeepDetector,
    BaseDeepEstimator,
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
    "KNN_NEIGHBORS",
    "AnomalyMapMixin",
    "BalancedBatchSampler",
    "BaseDeepDetector",
    "BaseDeepEstimator",
    "DatasetImages",
    "DetectorNet",
    "OutlierDetectorMixin",
    "ReconstructionMixin",
    "as_float32",
    "balanced_loader",
    "check_finite_scores",
    "check_labels",
    "fold_shape",
    "gaussian_deviation",
    "gaussian_moments",
    "gradient_map",
    "item_to_array",
    "knn_distance",
    "offset_from_scores",
    "pixel_components",
    "resolve_device",
    "row_digests",
    "seeded",
    "set_cosine_lr",
    "store_params",
    "to_tensor",
    "validate_images",
]
