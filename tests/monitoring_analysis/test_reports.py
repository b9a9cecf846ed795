"""The reports through any writer: a folder, or a callable as the emulator's S3 client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagestack.monitoring import analyze_data_quality, folder_writer, write_reports
from tests.monitoring_analysis.conftest import Baseline


def test_a_clean_run_writes_statistics_and_an_empty_violations_list(
    cancer: Baseline, tmp_path: Path
) -> None:
    report = analyze_data_quality(
        cancer.held_out.to_numpy().tolist(), None, cancer.statistics, cancer.constraints
    )
    names = write_reports(folder_writer(tmp_path / "out"), *report)
    assert names == ["statistics.json", "constraint_violations.json"]
    assert json.loads((tmp_path / "out" / "constraint_violations.json").read_text()) == {
        "violations": []
    }
    assert json.loads((tmp_path / "out" / "statistics.json").read_text()) == report.statistics


def test_any_callable_is_a_writer() -> None:
    written: dict[str, bytes] = {}
    violations = {"violations": [{"feature_name": "_c1", "constraint_check_type": "x"}]}
    write_reports(written.__setitem__, {"version": 0}, violations)
    assert json.loads(written["constraint_violations.json"]) == violations


def test_a_value_json_cannot_hold_is_refused_before_anything_is_written() -> None:
    written: dict[str, bytes] = {}
    with pytest.raises(ValueError, match="Out of range float values"):
        write_reports(written.__setitem__, {"version": 0}, {"violations": [float("nan")]})
    assert written == {}
