"""Every model family on every problem type it serves.

Through the local runner (the real container contract), one chain per family and problem type:
preprocess → train → evaluate on the problem type's bundled data set, the evaluation in the
problem type's SageMaker layout with every gate metric of ground/problems.py, the training
metrics picked up by the family's METRIC_DEFINITIONS, and the packaged handlers answering in
the documented shapes. In process, every scikit-learn estimator on every problem type it
serves, and the hyperparameter checks.
"""

from __future__ import annotations

import io
import json
import math
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import problems
import pytest
from code_families import family
from serving import CSV, JSON, NPY, model_spec

from ground.container import family_code, load_metric_definitions
from ground.families import FAMILIES
from ground.problems import PROBLEM_TYPES
from sagestack.local.endpoint import ModelServer
from sagestack.local.runner import run_training
from sagestack.local.script_chain import TRAINING_CODE

CHAINS = [(name, kind) for name, spec in FAMILIES.items() for kind in spec.problem_types]
ESTIMATORS = [
    (estimator, kind)
    for estimator, kinds in FAMILIES["sklearn"].estimators.items()
    for kind in kinds
]
# A floor each chain's test split clears with room to spare (metric, minimum).
QUALITY = {"binary": ("auc", 0.95), "multiclass": ("accuracy", 0.85), "regression": ("r2", 0.3)}
FIGURES = {
    "binary": ("roc_curve.png", "pr_curve.png", "confusion_matrix.png"),
    "multiclass": ("confusion_matrix.png",),
    "regression": ("residuals.png", "residual_histogram.png"),
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SKLEARN_SMALL = {
    "random_forest": ["--n_estimators", "30", "--n_jobs", "1"],
    "hist_gradient_boosting": ["--max_iter", "40"],
}


def _ids(case: tuple[str, str]) -> str:
    return "-".join(case)


# --- the chains under the container contract -------------------------------------------


@pytest.mark.parametrize("case", CHAINS, ids=_ids)
def test_evaluation_holds_the_layout_with_every_gate_metric(chain, case) -> None:
    name, kind = case
    run = chain(name, kind)
    problem = PROBLEM_TYPES[kind]
    report = run.evaluation
    assert [key for key in report if key.endswith("_metrics")] == [problem.layout]
    layout = report[problem.layout]
    for metric in problem.gate_metrics:  # what the pipeline's gate may read
        assert set(layout[metric]) == {"value", "standard_deviation"}, metric
        assert math.isfinite(layout[metric]["value"]), metric
        assert layout[metric]["standard_deviation"] >= 0, metric
    metric, floor = QUALITY[kind]
    assert layout[metric]["value"] >= floor
    if kind == "multiclass":  # by class name, every class
        classes = ["class_0", "class_1", "class_2"]
        assert list(layout["confusion_matrix"]) == classes
        assert all(list(row) == classes for row in layout["confusion_matrix"].values())
        assert sum(sum(row.values()) for row in layout["confusion_matrix"].values()) == 27
    # The tuning objective, as SageMaker reads it from the log with the family's regexes.
    assert problem.objective_metric in run.training.metrics
    for figure in FIGURES[kind]:
        assert (run.evaluation_dir / figure).read_bytes().startswith(PNG_MAGIC)
    page = (run.evaluation_dir / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(FIGURES[kind])
    _check_quality_constraints(run.evaluation_dir, problem.layout, layout)


def _check_quality_constraints(folder: Path, layout_name: str, layout: dict) -> None:
    """model_quality_constraints.json: the test metrics loosened by the default 10%."""
    constraints = json.loads((folder / "model_quality_constraints.json").read_text())
    key = layout_name.removesuffix("_metrics") + "_constraints"
    assert list(constraints) == ["version", key] and constraints["version"] == 0.0
    for metric, check in constraints[key].items():
        value = layout[metric]["value"]
        if check["comparison_operator"] == "LessThanThreshold":  # violated below
            assert check["threshold"] == pytest.approx(value - 0.1 * abs(value)), metric
        else:
            assert check == {
                "threshold": pytest.approx(value * 1.1),
                "comparison_operator": "GreaterThanThreshold",
            }, metric


def test_cross_validation_refits_through_the_familys_train(chain) -> None:
    run = chain("sklearn", "multiclass")  # the demo chain covers XGBoost's refit
    folds = run.evaluation["cross_validation"]
    assert folds["folds"] == 3 and folds["metric"] == "accuracy"
    assert len(folds["accuracy"]["per_fold"]) == 3 and folds["accuracy"]["value"] > 0.85
    assert "3-fold CV accuracy" in (run.evaluation_dir / "report.html").read_text()


@pytest.mark.parametrize("case", CHAINS, ids=_ids)
def test_model_packs_its_serving_code_and_metadata(chain, case) -> None:
    name, kind = case
    run = chain(name, kind)
    with tarfile.open(run.training.model_artifact) as tar:
        names = set(tar.getnames())
        metadata = json.loads(tar.extractfile("metadata.json").read())
    model_file = {"xgboost": "model.ubj", "sklearn": "model.joblib"}[name]
    serving = {"code/inference.py", "code/serving.py", "code/problems.py"}
    assert names == {"code", model_file, "metadata.json", *serving}
    assert (metadata["family"], metadata["problem_type"]) == (name, kind)
    assert metadata["target_column"] == "target" and len(metadata["feature_names"]) > 5
    assert problems.objective_key(kind) in metadata["validation_metrics"]
    expected_classes = {
        "binary": ["benign", "malignant"],
        "multiclass": ["class_0", "class_1", "class_2"],
        "regression": [],
    }
    assert metadata["classes"] == expected_classes[kind]
    assert ("threshold" in metadata) == (kind == "binary")


# --- answers of the packaged handlers --------------------------------------------------


@pytest.fixture(scope="module")
def servers(chain, tmp_path_factory):
    """Each chain's model loaded from its own code/inference.py, as the container loads it."""
    opened: dict[tuple[str, str], ModelServer] = {}

    def get(name: str, kind: str) -> tuple[ModelServer, np.ndarray]:
        run = chain(name, kind)
        if (name, kind) not in opened:
            opened[name, kind] = ModelServer(run.training.model_artifact)
        test = pd.read_csv(run.splits["test"] / "test.csv")
        return opened[name, kind], test.drop(columns="target").to_numpy(np.float32)[:3]

    yield get
    for server in opened.values():
        server.close()


def _bodies(rows: np.ndarray) -> dict[str, bytes]:
    npy = io.BytesIO()
    np.save(npy, rows)
    csv = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    return {CSV: csv.encode(), JSON: json.dumps(rows.tolist()).encode(), NPY: npy.getvalue()}


@pytest.mark.parametrize("case", CHAINS, ids=_ids)
def test_answers_take_the_documented_shape_for_every_request_type(servers, case) -> None:
    name, kind = case
    server, rows = servers(name, kind)
    classes = server.model.spec.classes
    answers = {
        (content_type, accept): server.invoke(body, content_type, accept)
        for content_type, body in _bodies(rows).items()
        for accept in (CSV, JSON)
    }
    for (_, accept), (body, media_type) in answers.items():
        assert media_type == accept
        if accept == CSV:
            _check_csv(kind, body.decode(), classes)
        else:
            _check_json(kind, json.loads(body), classes)
    for accept in (CSV, JSON):  # the same rows give the same answer whatever the request type
        assert len({answers[content_type, accept] for content_type in (CSV, JSON, NPY)}) == 1


def _check_csv(kind: str, body: str, classes: list[str]) -> None:
    lines = body.splitlines()
    assert len(lines) == 3
    for line in lines:
        fields = line.split(",")
        if kind == "binary":
            assert 0 <= float(fields[0]) <= 1 and fields[1] in ("0", "1")
        elif kind == "multiclass":
            label, probabilities = fields[0], [float(p) for p in fields[1:]]
            assert len(probabilities) == len(classes) == 3
            assert abs(sum(probabilities) - 1) < 1e-5
            assert label == classes[int(np.argmax(probabilities))]
        else:
            assert len(fields) == 1 and math.isfinite(float(fields[0]))


def _check_json(kind: str, answer: dict, classes: list[str]) -> None:
    predictions = answer["predictions"]
    assert list(answer) == ["predictions"] and len(predictions) == 3
    for item in predictions:
        if kind == "binary":
            assert set(item) == {"probability", "label"} and item["label"] in (0, 1)
        elif kind == "multiclass":
            assert set(item) == {"label", "probabilities"}
            assert list(item["probabilities"]) == classes  # class names, in metadata order
            assert item["label"] == max(item["probabilities"], key=item["probabilities"].get)
        else:
            assert set(item) == {"value"} and math.isfinite(item["value"])


@pytest.mark.parametrize("case", CHAINS, ids=_ids)
def test_a_row_of_the_wrong_width_is_a_clear_400(servers, case) -> None:
    server, rows = servers(*case)
    width = rows.shape[1]
    with pytest.raises(Exception) as caught:  # the endpoint's error, carrying the status
        server.invoke(_bodies(np.zeros((1, width + 1), np.float32))[CSV], CSV, CSV)
    assert caught.value.status == 400
    assert f"each row needs {width} features" in caught.value.message
    assert f" has {width + 1}" in caught.value.message  # what the request carries


def test_class_names_that_need_quoting_are_quoted_in_csv_answers() -> None:
    spec = model_spec(
        {"problem_type": "multiclass", "feature_names": ["x"], "classes": ["a,b", 'say "hi"']}
    )
    prediction = family("xgboost").inference.prediction(spec, np.array([[0.25, 0.75]]))
    body, _ = family("xgboost").inference.output_fn(prediction, CSV)
    assert body == '"say ""hi""",0.25,0.75\n'


def test_models_of_the_first_format_still_load_as_binary() -> None:
    spec = model_spec({"feature_names": ["a", "b"], "threshold": 0.4})
    assert (spec.problem_type, spec.threshold, spec.classes) == ("binary", 0.4, [])
    with pytest.raises(ValueError, match="needs its `classes`"):
        model_spec({"problem_type": "multiclass", "feature_names": ["a"]})


# --- every scikit-learn estimator, in process ------------------------------------------


SKLEARN = family("sklearn")


def _environ(chain, kind: str, model_dir: Path) -> dict[str, str]:
    splits = chain("sklearn", kind).splits
    return {
        "SM_CHANNEL_TRAIN": str(splits["train"]),
        "SM_CHANNEL_VALIDATION": str(splits["validation"]),
        "SM_MODEL_DIR": str(model_dir),
        "SM_HOSTS": '["algo-1"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_NUM_CPUS": "1",
    }


@pytest.mark.parametrize("case", ESTIMATORS, ids=_ids)
def test_every_sklearn_estimator_trains_prints_its_metrics_and_serves(
    chain, case, tmp_path: Path, capsys
) -> None:
    estimator, kind = case
    environ = _environ(chain, kind, tmp_path / "model")
    argv = ["--problem_type", kind, "--estimator", estimator, *SKLEARN_SMALL.get(estimator, [])]
    SKLEARN.train.train(SKLEARN.train.parse_hyperparameters(argv, environ), environ)
    final = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("["))
    found = {
        d["Name"]: float(m[1])
        for d in SKLEARN.metrics.METRIC_DEFINITIONS
        if (m := re.search(d["Regex"], final))
    }
    objective = PROBLEM_TYPES[kind].objective_metric
    metric, floor = {"binary": ("auc", 0.95), "multiclass": ("accuracy", 0.8)}.get(
        kind, ("r2", 0.2)
    )
    assert objective in found
    assert found[f"validation:{metric}"] >= floor

    model = SKLEARN.inference.model_fn(str(tmp_path / "model"))
    test = pd.read_csv(chain("sklearn", kind).splits["test"] / "test.csv")
    rows = test.drop(columns="target").to_numpy(np.float32)
    prediction = SKLEARN.inference.predict_fn(rows, model)
    if kind == "multiclass":
        assert prediction.scores.shape == (len(rows), 3)
        answer = json.loads(SKLEARN.inference.output_fn(prediction, JSON)[0])
        assert {p["label"] for p in answer["predictions"]} <= {"class_0", "class_1", "class_2"}
    else:
        assert prediction.scores.shape == (len(rows),)
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert (metadata["estimator"], metadata["problem_type"]) == (estimator, kind)
    assert objective.replace(":", "-") in metadata["validation_metrics"]


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (
            ["--estimator", "random_forest", "--n_estimator", "10", "--C", "1"],
            "unknown hyperparameters 'C', 'n_estimator' for estimator random_forest (binary)",
        ),
        (
            ["--estimator", "random_forest", "--problem_type", "regression", "--class_weight", "x"],
            "unknown hyperparameter 'class_weight' for estimator random_forest (regression)",
        ),
        (
            ["--estimator", "logistic_regression", "--problem_type", "regression"],
            "estimator 'logistic_regression' does not serve regression problems; these do: "
            "hist_gradient_boosting, linear_regression, random_forest, ridge",
        ),
        (["--estimator", "svm"], "hyperparameter 'estimator' must be one of"),
        ([], "hyperparameter 'estimator' must be one of"),
        (["--estimator", "ridge", "--problem_type", "ordinal"], "'problem_type' must be one of"),
        (
            ["--estimator", "random_forest", "--max_depth", "deep"],
            "hyperparameter 'max_depth' must be int, got 'deep'",
        ),
        (
            ["--estimator", "logistic_regression", "--class_weight", "heavy"],
            "hyperparameter 'class_weight' must be 'balanced' or 'none'",
        ),
        (["--estimator", "ridge", "--problem_type", "regression", "--threshold", "2"], "between"),
    ],
)
def test_bad_sklearn_hyperparameters_are_named(argv: list[str], reason: str) -> None:
    with pytest.raises(SKLEARN.common.JobError) as caught:
        SKLEARN.train.parse_hyperparameters(argv, {})
    assert reason in str(caught.value)


def test_sklearn_hyperparameters_take_scikit_learns_names_and_types() -> None:
    environ = {"SM_HPS": json.dumps({"estimator": "random_forest", "max_depth": "none"})}
    settings = SKLEARN.train.parse_hyperparameters(
        ["--max_features", "0.5", "--min_samples_leaf", "3.0", "--bootstrap", "false"], environ
    )
    params = settings.params
    assert (params["max_depth"], params["max_features"], params["min_samples_leaf"]) == (
        None,
        0.5,
        3,
    )
    assert params["bootstrap"] is False and "criterion" not in params  # scikit-learn's default
    built = SKLEARN.train.build_estimator(settings)
    assert type(built).__name__ == "RandomForestClassifier" and built.max_features == 0.5


def test_an_unknown_sklearn_hyperparameter_ends_the_job_with_its_name(
    chain, tmp_path: Path
) -> None:
    splits = chain("sklearn", "binary").splits
    result = run_training(
        SKLEARN.code_dir / "train.py",
        channels={"train": splits["train"], "validation": splits["validation"]},
        hyperparameters={
            "problem_type": '"binary"',
            "estimator": '"random_forest"',
            "n_estimator": "10",
        },
        output_dir=tmp_path,
    )
    assert result.exit_code == 1 and result.model_artifact is None
    assert result.failure_reason.startswith(
        "unknown hyperparameter 'n_estimator' for estimator random_forest (binary); known: "
    )


def test_sklearn_trains_on_the_first_host_and_the_others_exit(chain, tmp_path: Path) -> None:
    splits = chain("sklearn", "regression").splits
    result = run_training(
        SKLEARN.code_dir / "train.py",
        channels={"train": splits["train"], "validation": splits["validation"]},
        hyperparameters={"problem_type": '"regression"', "estimator": '"linear_regression"'},
        output_dir=tmp_path,
        instance_count=2,
    )
    assert result.succeeded, result.failure_reason
    assert "validation:rmse" in result.metrics
    assert "scikit-learn trains on one host" in result.host_logs["algo-1"].read_text()
    assert "nothing to do" in result.host_logs["algo-2"].read_text()
    with tarfile.open(result.model_artifact) as tar:
        assert "model.joblib" in tar.getnames()


# --- XGBoost's collective on a multiclass problem ---------------------------------------


def test_xgboost_hosts_agree_on_the_class_count(chain, tmp_path: Path) -> None:
    """Sharded so that one host never sees the highest class code: both must still train a
    3-class model (num_class agreed through the collective), named by code without
    preprocessing.json."""
    splits = chain("xgboost", "multiclass").splits
    for name in ("train", "validation"):
        frame = pd.read_csv(splits[name] / f"{name}.csv")
        low = frame["target"] < 2
        (tmp_path / name).mkdir()
        frame[low].to_csv(tmp_path / name / "part-0.csv", index=False)
        frame.to_csv(tmp_path / name / "part-1.csv", index=False)
    result = run_training(
        family("xgboost").code_dir / "train.py",
        channels={"train": tmp_path / "train", "validation": tmp_path / "validation"},
        hyperparameters={"problem_type": '"multiclass"', "num_round": "5", "nthread": "1"},
        output_dir=tmp_path / "job",
        instance_count=2,
        distribution="ShardedByS3Key",
    )
    assert result.succeeded, result.failure_reason
    assert result.metrics["validation:accuracy"] > 0.8
    with tarfile.open(result.model_artifact) as tar:
        metadata = json.loads(tar.extractfile("metadata.json").read())
    assert metadata["classes"] == ["0", "1", "2"]


# --- what the families share ------------------------------------------------------------


@pytest.mark.parametrize("name", FAMILIES)
def test_metric_definitions_carry_every_objective_the_family_serves(name: str) -> None:
    # As the training stack loads them: the file on its own, outside the job.
    definitions = load_metric_definitions(TRAINING_CODE / name / "metrics.py")
    assert definitions == family(name).metrics.METRIC_DEFINITIONS
    names = {d["Name"] for d in definitions}
    for kind in FAMILIES[name].problem_types:
        assert PROBLEM_TYPES[kind].objective_metric in names
    line = family(name).metrics.format_line(
        "final", {"validation-auc": 0.97, "validation-accuracy": 0.9, "validation-rmse": 1e-5}
    )
    found = {d["Name"]: re.search(d["Regex"], line) for d in definitions}
    assert float(found["validation:auc"][1]) == 0.97
    assert float(found["validation:accuracy"][1]) == 0.9
    assert float(found["validation:rmse"][1]) == 1e-5
    assert found["validation:logloss"] is None and found["train:auc"] is None


def test_the_scripts_problem_types_agree_with_ground() -> None:
    assert set(problems.PROBLEM_TYPES) == set(PROBLEM_TYPES)
    for name, problem in PROBLEM_TYPES.items():
        assert problems.LAYOUTS[name] == problem.layout
        assert problems.OBJECTIVE_METRICS[name] == problem.objective_metric
        assert problems.MAXIMIZE[name] == problem.maximize


def test_no_file_is_both_shared_and_a_familys() -> None:
    shared = {path.name for path in TRAINING_CODE.iterdir() if path.is_file()}
    for name in FAMILIES:
        own = {path.name for path in (TRAINING_CODE / name).iterdir() if path.is_file()}
        assert {"train.py", "inference.py", "metrics.py"} <= own
        assert not shared & own, name
        bundle = family_code(TRAINING_CODE, name, FAMILIES)
        assert {"preprocess.py", "evaluate.py", "serving.py", "problems.py"} <= set(bundle)


def test_the_numpy_objective_matches_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 300).astype(np.float32)
    scores = np.round(rng.random(300) + labels * 0.3, 1)  # ties on purpose
    assert problems.objective_value("binary", labels, scores) == pytest.approx(
        roc_auc_score(labels, scores)
    )
    probabilities = np.array([[0.2, 0.8], [0.9, 0.1]])
    assert problems.objective_value("multiclass", np.array([1.0, 1.0]), probabilities) == 0.5
    assert problems.objective_value("regression", np.array([1.0, 3.0]), np.array([2, 2])) == 1.0
