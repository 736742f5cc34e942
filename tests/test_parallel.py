"""Parallel grid search: joblib processes and a dask.distributed cluster."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skanomaly import AutoEncoder

TINY = {"max_epochs": 1, "latent_dim": 2, "n_filters": 2, "batch_size": 16, "random_state": 0,
        "n_threads": 1}
GRID = {"latent_dim": [2, 4], "lr": [1e-3, 1e-2]}


def _search(n_jobs):
    return GridSearchCV(AutoEncoder(**TINY), GRID, scoring="roc_auc", n_jobs=n_jobs,
                        cv=StratifiedKFold(2, shuffle=True, random_state=0))


def test_n_jobs_gives_the_same_results(digits_split):
    X, y = digits_split[:2]
    sequential = _search(1).fit(X, y)
    parallel = _search(2).fit(X, y)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )


def test_dask_distributed_grid_search(digits_split):
    distributed = pytest.importorskip("distributed")
    X, y = digits_split[:2]
    sequential = _search(1).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_backend("dask"):
        on_dask = _search(-1).fit(X, y)
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )
    assert on_dask.best_params_ == sequential.best_params_
