"""Each pinned model's dashboard: what it shows for each kind of endpoint, and only that model."""

from __future__ import annotations

import json

import pytest

from tests.serving.pinned import MODELS, PINNED, only, resources

EVERY = [(env, model) for env in PINNED for model in MODELS]
IDS = [f"{env}-{model}" for env, model in EVERY]


def _widgets(template: dict) -> dict[str, dict]:
    """Widgets by title, from the dashboard body (the region token read as the region)."""
    body = only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]

    def text(part: object) -> str:
        if isinstance(part, str):
            return part
        assert part == {"Ref": "AWS::Region"}, part
        return "eu-west-1"

    return {
        w["properties"].get("title", w["type"]): w
        for w in json.loads("".join(map(text, parts)))["widgets"]
    }


def _metric_names(widget: dict) -> list[str]:
    return [row[1] for row in widget["properties"].get("metrics", []) if isinstance(row[0], str)]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_one_dashboard_per_model_with_traffic_latency_errors_and_its_pipelines(
    pinned, environments, env, model
):
    template = pinned.raw(env, f"{model}-monitoring")
    dashboard = only(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["DashboardName"] == f"sagestack-{env}-{model}"
    widgets = _widgets(template)
    invocations = next(w for t, w in widgets.items() if t.startswith("Invocations"))
    assert "Invocations" in _metric_names(invocations)
    latency = widgets["Latency (ms)"]
    expressions = [
        row[0]["expression"] for row in latency["properties"]["metrics"] if "expression" in row[0]
    ]
    assert expressions == [
        "model_p50 / 1000",
        "model_p90 / 1000",
        "model_p99 / 1000",
        "overhead_p99 / 1000",
    ]
    errors = next(w for t, w in widgets.items() if t.startswith("Errors"))
    assert {"Invocation4XXErrors", "Invocation5XXErrors"} <= set(_metric_names(errors))
    pipelines = widgets["Pipeline executions per hour"]
    rows = pipelines["properties"]["metrics"]
    assert {row[3] for row in rows} == {
        f"sagestack-{env}-{model}-training",
        f"sagestack-{env}-{model}-tuning",
        f"sagestack-{env}-{model}-batch-transform",
    }
    assert {row[1] for row in rows} == {"ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed"}
    # Every endpoint metric is the model's own endpoint and variant.
    endpoint = environments[env].model(model).endpoint_name
    endpoints = [
        (title, row[row.index("EndpointName") + 1])
        for title, widget in widgets.items()
        for row in widget["properties"].get("metrics", [])
        if "EndpointName" in row
    ]
    assert len(endpoints) >= 6
    assert {name for _, name in endpoints} == {endpoint}, endpoints


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_instance_count_is_drawn_against_the_autoscaling_bounds(
    pinned, environments, env, model
) -> None:
    widgets = _widgets(pinned.raw(env, f"{model}-monitoring"))
    if environments[env].model(model).serving.is_serverless:
        assert "Instances in service" not in widgets
        assert not any(title.startswith("Utilization") for title in widgets)
        return
    scaling = environments[env].model(model).serving.autoscaling
    instances = widgets["Instances in service"]["properties"]
    bounds = {a["label"]: a["value"] for a in instances["annotations"]["horizontal"]}
    assert bounds == {"min": scaling.min_capacity, "max": scaling.max_capacity}
    utilization = next(w for t, w in widgets.items() if t.startswith("Utilization"))
    assert set(_metric_names(utilization)) == {
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
    }


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_alarm_panel_lists_every_alarm_of_the_model_and_monitor_violations_are_graphed(
    pinned, environments, env, model
):
    widgets = _widgets(pinned.raw(env, f"{model}-monitoring"))
    shown = {arn.rsplit(":", 1)[1] for arn in widgets["Alarms"]["properties"]["alarms"]}
    expected = {
        a["Properties"].get("AlarmName")
        for stack in ("serving", "monitoring")
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for a in resources(pinned.raw(env, f"{model}-{stack}"), kind).values()
    }
    assert shown == expected
    assert all(name.startswith(f"sagestack-{env}-{model}-") for name in shown)
    monitor = [t for t in widgets if t.startswith("Model Monitor")]
    assert bool(monitor) == environments[env].model(model).monitoring.model_monitor.enabled
    if monitor:
        (title,) = monitor
        metrics = widgets[title]["properties"]["metrics"]
        assert {row[1] for row in metrics} == {"MatchedEvents"}
        kinds = ("dq", "mq") if env == "prod" else ("dq",)
        assert {row[3] for row in metrics} == {
            f"sagestack-{env}-{model}-{kind}-{outcome}"
            for kind in kinds
            for outcome in ("violations", "failed")
        }
