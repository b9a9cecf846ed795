"""The per-environment dashboard: what it shows for each kind of endpoint."""

from __future__ import annotations

import json

import pytest

from tests.serving.pinned import MODEL, PINNED, only, resources


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


@pytest.mark.parametrize("env", PINNED)
def test_one_dashboard_per_environment_with_traffic_latency_errors_pipelines(pinned, env):
    template = pinned.raw(env, f"{MODEL}-monitoring")
    dashboard = only(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["DashboardName"] == f"sagestack-{env}"
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
        f"sagestack-{env}-training",
        f"sagestack-{env}-tuning",
        f"sagestack-{env}-batch-transform",
    }
    assert {row[1] for row in rows} == {"ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed"}


@pytest.mark.parametrize("env", PINNED)
def test_instance_count_is_drawn_against_the_autoscaling_bounds(pinned, environments, env) -> None:
    widgets = _widgets(pinned.raw(env, f"{MODEL}-monitoring"))
    if environments[env].model(MODEL).serving.is_serverless:
        assert "Instances in service" not in widgets
        assert not any(title.startswith("Utilization") for title in widgets)
        return
    scaling = environments[env].model(MODEL).serving.autoscaling
    instances = widgets["Instances in service"]["properties"]
    bounds = {a["label"]: a["value"] for a in instances["annotations"]["horizontal"]}
    assert bounds == {"min": scaling.min_capacity, "max": scaling.max_capacity}
    utilization = next(w for t, w in widgets.items() if t.startswith("Utilization"))
    assert set(_metric_names(utilization)) == {
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
    }


@pytest.mark.parametrize("env", PINNED)
def test_alarm_panel_lists_every_alarm_and_monitor_violations_are_graphed(
    pinned, environments, env
):
    widgets = _widgets(pinned.raw(env, f"{MODEL}-monitoring"))
    shown = {arn.rsplit(":", 1)[1] for arn in widgets["Alarms"]["properties"]["alarms"]}
    expected = {
        a["Properties"].get("AlarmName")
        for stack in ("serving", "monitoring")
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for a in resources(pinned.raw(env, stack), kind).values()
    }
    assert shown == expected
    monitor = [t for t in widgets if t.startswith("Model Monitor")]
    assert bool(monitor) == environments[env].model(MODEL).monitoring.model_monitor.enabled
    if monitor:
        (title,) = monitor
        metrics = widgets[title]["properties"]["metrics"]
        assert {row[1] for row in metrics} == {"MatchedEvents"}
