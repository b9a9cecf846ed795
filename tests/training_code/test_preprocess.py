"""preprocess.py: schema checks, encoding, stratified seeded splits, the monitoring baseline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from common import JobError
from preprocess import kll_sketch
from preprocess import main as preprocess_main

from sagestack.datasets import synthetic
from sagestack.local.runner import run_processing

TRAINING_CODE = Path(__file__).resolve().parents[2] / "training_code"
SCHEMAS = Path(__file__).parent / "schemas"


def test_splits_cover_every_row_once_stratified(splits: dict[str, Path]) -> None:
    frames = {
        name: pd.read_csv(splits[name] / f"{name}.csv") for name in ("train", "validation", "test")
    }
    assert [len(f) for f in frames.values()] == [398, 85, 86]
    rates = [f["target"].mean() for f in frames.values()]
    assert max(rates) - min(rates) < 0.02  # malignant share kept in every split (212/569)
    assert all(f.columns[0] == "target" for f in frames.values())
    assert set(frames["train"]["target"].unique()) == {0, 1}
    merged = pd.concat(frames.values())
    assert len(merged.drop_duplicates()) == 569


def test_baseline_is_model_monitor_shaped(splits: dict[str, Path]) -> None:
    stats = json.loads((splits["baseline"] / "statistics.json").read_text())
    constraints = json.loads((splits["baseline"] / "constraints.json").read_text())
    schema = json.loads((splits["baseline"] / "preprocessing.json").read_text())
    assert stats["dataset"]["item_count"] == 398
    # Named as Model Monitor names the columns of captured (header-less) CSV requests.
    names = [f["name"] for f in stats["features"]]
    assert names == [f"_c{index}" for index in range(len(schema["feature_names"]))]
    assert [schema["monitor_column_names"][name] for name in names] == schema["feature_names"]
    radius = stats["features"][0]
    assert schema["monitor_column_names"]["_c0"] == "mean radius"
    assert radius["inferred_type"] == "Fractional"
    numbers = radius["numerical_statistics"]
    assert numbers["common"] == {"num_present": 398, "num_missing": 0}
    assert numbers["min"] <= numbers["mean"] <= numbers["max"]
    assert sum(b["count"] for b in numbers["distribution"]["kll"]["buckets"]) == 398
    assert constraints["features"][0]["completeness"] == 1.0
    assert constraints["monitoring_config"]["evaluate_constraints"] == "Enabled"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_baseline_files_follow_the_documented_model_monitor_schemas(splits) -> None:
    for name in ("statistics", "constraints"):
        document = json.loads((splits["baseline"] / f"{name}.json").read_text())
        jsonschema.Draft202012Validator(_schema(name)).validate(document)
    stats = json.loads((splits["baseline"] / "statistics.json").read_text())
    sketch = stats["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]
    assert sketch["parameters"] == {"c": 0.64, "k": 2048.0}
    assert sorted(sketch["data"][0]) == sorted(
        pd.read_csv(splits["train"] / "train.csv").iloc[:, 1]
    )


def test_the_schemas_refuse_what_the_analyzer_would_not_read(splits) -> None:
    stats = json.loads((splits["baseline"] / "statistics.json").read_text())
    del stats["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]
    with pytest.raises(jsonschema.ValidationError, match="'sketch' is a required property"):
        jsonschema.Draft202012Validator(_schema("statistics")).validate(stats)
    constraints = json.loads((splits["baseline"] / "constraints.json").read_text())
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Fancy"
    with pytest.raises(jsonschema.ValidationError, match="'Fancy' is not one of"):
        jsonschema.Draft202012Validator(_schema("constraints")).validate(constraints)


def test_a_large_column_gets_a_compacted_sketch_of_the_right_weight() -> None:
    values = np.random.default_rng(7).normal(size=20_000)
    levels = kll_sketch(values)
    assert len(levels) > 1 and all(len(level) <= 2048 for level in levels)
    weight = sum(len(level) * 2**height for height, level in enumerate(levels))
    assert abs(weight - len(values)) < 0.01 * len(values)
    median = np.median(np.concatenate([np.repeat(level, 2**h) for h, level in enumerate(levels)]))
    assert abs(median - np.median(values)) < 0.05


def _run(tmp_path: Path, frame: pd.DataFrame, *arguments: str) -> Path:
    raw = tmp_path / "in"
    raw.mkdir(parents=True)
    frame.to_csv(raw / "raw.csv", index=False)
    out = tmp_path / "out"
    preprocess_main(["--input-dir", str(raw), "--output-dir", str(out), *arguments])
    return out


def test_same_seed_same_splits_other_seed_other_splits(tmp_path: Path) -> None:
    frame = synthetic(300, 4, seed=1)
    first = (_run(tmp_path / "a", frame) / "test" / "test.csv").read_text()
    again = (_run(tmp_path / "b", frame) / "test" / "test.csv").read_text()
    other = (_run(tmp_path / "c", frame, "--seed", "7") / "test" / "test.csv").read_text()
    assert first == again
    assert first != other


def test_categories_become_codes_and_gaps_stay_missing(tmp_path: Path) -> None:
    frame = synthetic(400, 4, seed=2, n_categorical=1, missing_fraction=0.1)
    frame["mostly_empty"] = None
    frame.loc[:9, "mostly_empty"] = 1.0
    out = _run(tmp_path, frame)
    train = pd.read_csv(out / "train" / "train.csv")
    schema = json.loads((out / "baseline" / "preprocessing.json").read_text())
    assert "mostly_empty" not in train.columns  # over --max-missing-fraction: dropped
    assert set(schema["categorical_codes"]["c0"]) == {"red", "green", "blue", "grey"}
    assert set(train["c0"].dropna().unique()) <= {0, 1, 2, 3}
    assert train["f0"].isna().any()  # left for XGBoost's missing-value routing
    stats = json.loads((out / "baseline" / "statistics.json").read_text())
    f0_column = next(name for name, real in schema["monitor_column_names"].items() if real == "f0")
    f0 = next(f for f in stats["features"] if f["name"] == f0_column)
    assert f0["numerical_statistics"]["common"]["num_missing"] > 0


@pytest.mark.parametrize(
    ("frame", "arguments", "reason"),
    [
        (pd.DataFrame({"x": [1, 2], "label": [0, 1]}), [], "target column 'target' is not in"),
        (pd.DataFrame({"x": [], "target": []}), [], "hold no rows"),
        (pd.DataFrame({"x": [1.0] * 6, "target": [None] * 6}), [], "every row lacks a value"),
        (pd.DataFrame({"x": range(9), "target": [0, 1, 2] * 3}), [], "has 3 classes"),
        (pd.DataFrame({"x": range(8), "target": ["y", "n"] * 4}), [], "give --positive-class"),
        (
            pd.DataFrame({"x": ["1", "two", "3", "4"] * 5, "target": [0, 1] * 10}),
            ["--numeric-columns", "x"],
            "column 'x' should be numeric but holds 5 unparseable values",
        ),
        (pd.DataFrame({"x": range(40), "target": [1] + [0] * 39}), [], "the rarer class has 1"),
        (synthetic(50, 2), ["--categorical-columns", "nope"], "not in the data: ['nope']"),
        (synthetic(50, 2), ["--test-fraction", "0.9"], "must lie between 0 and 1"),
    ],
)
def test_bad_data_is_refused_with_its_reason(
    tmp_path: Path, frame: pd.DataFrame, arguments: list[str], reason: str
) -> None:
    with pytest.raises(JobError) as caught:
        _run(tmp_path, frame, *arguments)
    assert reason in str(caught.value)


def test_no_csv_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JobError, match=r"no \.csv files in"):
        preprocess_main(["--input-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])


def test_job_exits_non_zero_with_the_reason_under_the_runner(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    pd.DataFrame({"x": [1, 2, 3], "diagnosis": [0, 1, 0]}).to_csv(raw, index=False)
    result = run_processing(
        TRAINING_CODE / "preprocess.py",
        inputs={"/opt/ml/processing/input": raw},
        outputs={"/opt/ml/processing/train": tmp_path / "train"},
    )
    assert result.exit_code == 1
    assert result.failure_reason.startswith("target column 'target' is not in the data")
    assert not (tmp_path / "train").exists()  # nothing is uploaded from a failed job


def test_multiclass_targets_become_sorted_codes_named_in_preprocessing_json(chain) -> None:
    splits = chain("xgboost", "multiclass").splits
    frames = {n: pd.read_csv(splits[n] / f"{n}.csv") for n in ("train", "validation", "test")}
    assert [len(f) for f in frames.values()] == [124, 27, 27]
    assert all(set(f["target"]) == {0, 1, 2} for f in frames.values())  # stratified
    for directory in (splits["baseline"], splits["train"], splits["validation"]):
        schema = json.loads((directory / "preprocessing.json").read_text())
        assert schema["problem_type"] == "multiclass"
        assert schema["classes"] == ["class_0", "class_1", "class_2"]
    stats = json.loads((splits["baseline"] / "statistics.json").read_text())
    jsonschema.Draft202012Validator(_schema("statistics")).validate(stats)
    assert len(stats["features"]) == 13


def test_regression_targets_stay_numbers_and_split_without_strata(chain) -> None:
    splits = chain("xgboost", "regression").splits
    frames = {n: pd.read_csv(splits[n] / f"{n}.csv") for n in ("train", "validation", "test")}
    assert sum(len(f) for f in frames.values()) == 442
    target = frames["train"]["target"]  # whole numbers in this data set: written as such
    assert pd.api.types.is_numeric_dtype(target) and target.nunique() > 100
    schema = json.loads((splits["baseline"] / "preprocessing.json").read_text())
    assert (schema["problem_type"], schema["classes"], schema["positive_class"]) == (
        "regression",
        [],
        None,
    )


def test_binary_preprocessing_names_both_classes(splits: dict[str, Path]) -> None:
    schema = json.loads((splits["train"] / "preprocessing.json").read_text())
    assert (schema["classes"], schema["positive_class"]) == (["benign", "malignant"], "malignant")


def test_numeric_class_values_sort_as_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(60), "target": ["10", "2", "9"] * 20})
    out = _run(tmp_path, frame, "--problem-type", "multiclass")
    schema = json.loads((out / "baseline" / "preprocessing.json").read_text())
    assert schema["classes"] == ["2", "9", "10"]
    train = pd.read_csv(out / "train" / "train.csv")
    assert (train["target"] == 0).sum() == (train["target"] == 2).sum()  # stratified thirds


@pytest.mark.parametrize(
    ("frame", "arguments", "reason"),
    [
        (
            synthetic(60, 2),
            ["--problem-type", "multiclass", "--positive-class", "1"],
            "--positive-class applies to binary problems, not multiclass",
        ),
        (
            pd.DataFrame({"x": range(30), "target": ["a"] * 30}),
            ["--problem-type", "multiclass"],
            "holds one class (['a']); it needs two",
        ),
        (
            pd.DataFrame({"x": range(40), "target": ["a"] * 20 + ["b"] * 18 + ["c"] * 2}),
            ["--problem-type", "multiclass"],
            "the rarest class ('c') has 2 rows",
        ),
        (
            pd.DataFrame({"x": range(20), "target": ["1.5", "high"] * 10}),
            ["--problem-type", "regression"],
            "target column 'target' of a regression must hold numbers; 10 rows hold e.g. ['high']",
        ),
        (
            pd.DataFrame({"x": range(9), "target": [0, 1, 2] * 3}),
            [],
            "a binary classifier needs exactly 2 (use --problem-type multiclass for more)",
        ),
        (synthetic(50, 2), ["--problem-type", "ordinal"], "invalid choice: 'ordinal'"),
    ],
)
def test_bad_targets_of_each_problem_type_are_refused(
    tmp_path: Path, frame: pd.DataFrame, arguments: list[str], reason: str
) -> None:
    with pytest.raises(JobError) as caught:
        _run(tmp_path, frame, *arguments)
    assert reason in str(caught.value)
