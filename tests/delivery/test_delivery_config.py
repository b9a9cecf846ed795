"""config/delivery/pipeline.yaml: validated, never mistaken for an environment, and its
smoke-test requests named by model and shaped like each model's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sklearn import datasets

from ground.config import ConfigError, load_environments
from ground.config.delivery import DELIVERY_FILE, load_delivery
from ground.config.loader import CONFIG_DIR, environment_names

SAMPLE_DATA = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "diabetes": datasets.load_diabetes,
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, directory)
    return directory


def edit(config_dir: Path, old: str, new: str) -> Path:
    path = config_dir / DELIVERY_FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_the_pipeline_file_is_not_an_environment() -> None:
    assert environment_names(CONFIG_DIR) == ["dev", "staging", "prod"]
    assert load_delivery().approval_before == ["prod"]


def test_an_invalid_value_names_file_and_field(config_dir: Path) -> None:
    path = edit(config_dir, "arn:aws:codeconnections:", "arn:aws:codecommit:")
    with pytest.raises(ConfigError, match=rf"^{path}: connection_arn: String should match"):
        load_delivery(config_dir)


def test_an_unknown_environment_is_named(config_dir: Path) -> None:
    path = edit(config_dir, "approval_before: [prod]", "approval_before: [production]")
    with pytest.raises(
        ConfigError, match=rf"^{path}: approval_before: unknown environment\(s\) production; "
    ):
        load_delivery(config_dir)


def test_an_unknown_smoke_test_environment_is_named(config_dir: Path) -> None:
    path = edit(config_dir, "environments: [staging]", "environments: [staging, qa]")
    with pytest.raises(
        ConfigError, match=rf"^{path}: smoke_test.environments: unknown environment\(s\) qa; "
    ):
        load_delivery(config_dir)


def test_a_request_for_a_model_that_does_not_exist_is_named(config_dir: Path) -> None:
    path = edit(config_dir, "    diabetes:\n", "    diabetis:\n")
    with pytest.raises(ConfigError) as raised:
        load_delivery(config_dir)
    assert str(raised.value) == (
        f"{path}: smoke_test.requests: unknown model(s) diabetis; "
        "the models are cancer, diabetes, wine"
    )


def test_a_request_needs_a_body(config_dir: Path) -> None:
    path = config_dir / DELIVERY_FILE
    text = path.read_text()
    start = text.index('    body: "14.23')
    path.write_text(text[:start] + '    body: ""\n' + text[text.index("\n", start) + 1 :])
    with pytest.raises(ConfigError, match=rf"{path}: smoke_test.requests.wine.body: "):
        load_delivery(config_dir)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"delivery/pipeline\.yaml: file not found"):
        load_delivery(tmp_path)


def test_every_committed_model_has_a_request_shaped_like_its_data() -> None:
    """The body is one row of the model's sample data, features only: the endpoint's input."""
    requests = load_delivery().smoke_test.requests
    (dev, *_) = load_environments()
    models = {d.name: d.model for d in dev.models}
    assert set(requests) == set(models)
    for name, request in requests.items():
        assert request.content_type == "text/csv", name
        row = [float(value) for value in request.body.split(",")]
        data = SAMPLE_DATA[models[name].data.sample_dataset]()
        assert len(row) == data.data.shape[1], f"{name}: one value per feature, no target"
        assert row == pytest.approx(list(data.data[0]), rel=1e-5), name
