"""sagestack.datasets: the bundled data sets by name, and the seeded generator per problem
type."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from sagestack.datasets import DATASETS, load, synthetic


@pytest.mark.parametrize(
    ("name", "loader", "rows", "kind"),
    [
        ("breast_cancer", load_breast_cancer, 569, "binary"),
        ("wine", load_wine, 178, "multiclass"),
        ("diabetes", load_diabetes, 442, "regression"),
    ],
)
def test_bundled_sets_keep_scikit_learns_features_with_the_target_last(
    name, loader, rows, kind
) -> None:
    frame = load(name)
    assert list(frame.columns) == [*loader().feature_names, "target"]
    assert len(frame) == rows and DATASETS[name].problem_type == kind


def test_targets_are_raw_values() -> None:
    assert set(load("breast_cancer")["target"]) == {"malignant", "benign"}
    assert DATASETS["breast_cancer"].positive_class == "malignant"
    assert sorted(load("wine")["target"].unique()) == ["class_0", "class_1", "class_2"]
    diabetes = load("diabetes")
    assert diabetes["target"].dtype == float and diabetes["target"].min() >= 25
    assert abs(diabetes["age"].mean()) < 1e-6  # scaled, as scikit-learn ships it
    with pytest.raises(KeyError, match="no data set 'iris'; known: breast_cancer, diabetes, wine"):
        load("iris")


def test_synthetic_binary_rows_are_what_they_were() -> None:
    frame = synthetic(200, 4, seed=5, n_categorical=1, missing_fraction=0.1)
    assert frame["target"].tolist()[:10] == [1, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    assert int(frame["target"].sum()) == 95 and list(frame.columns[:2]) == ["target", "f0"]


def test_synthetic_rows_of_every_problem_type() -> None:
    classes = synthetic(3000, 6, seed=1, problem_type="multiclass", n_classes=4)["target"]
    assert sorted(classes.unique()) == [0, 1, 2, 3] and classes.value_counts().min() > 500
    values = synthetic(3000, 6, seed=1, problem_type="regression")["target"]
    assert values.dtype == np.float32 and values.std() > 1
    with pytest.raises(ValueError, match="problem_type must be"):
        synthetic(10, 2, problem_type="ranking")
