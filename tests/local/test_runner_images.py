"""Image URIs come from the sagemaker SDK's bundled table, without any network call."""

from __future__ import annotations

import socket

import pytest

from ground import images


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("image resolution tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    images._retrieve.cache_clear()


def test_images_per_region_without_network(no_network: None) -> None:
    assert images.training_image("xgboost", "eu-west-1") == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    )
    assert images.inference_image("xgboost", "us-east-1").endswith("/sagemaker-xgboost:3.0-5")
    assert images.training_image("sklearn", "eu-west-1") == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert images.inference_image("sklearn", "us-east-1").endswith(
        "/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert images.processing_image("eu-central-1") == (
        "492215442770.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )


def test_unknown_region_is_named(no_network: None) -> None:
    with pytest.raises(
        ValueError, match=r"no SageMaker xgboost 3\.0-5 training image for region 'mars-1'"
    ):
        images.training_image("xgboost", "mars-1")


def test_model_monitor_image_without_network(no_network: None) -> None:
    assert images.model_monitor_image("eu-west-1").endswith("/sagemaker-model-monitor-analyzer")
