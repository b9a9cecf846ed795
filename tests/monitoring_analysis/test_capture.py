"""Data-capture records read in every encoding, bodies decoded as the endpoint reads and
answers them, and records that cannot be used counted with their reason."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagestack.monitoring import decode_inputs, decode_outputs, read_capture
from tests.monitoring_analysis.records import capture_line

ROWS = "1.5,2,,abc\n3,4,5,6\n"


@pytest.mark.parametrize("encoding", ["CSV", "BASE64"])
def test_csv_requests_give_every_row_with_gaps_and_text(encoding: str) -> None:
    capture = read_capture(
        [("f.jsonl", capture_line(ROWS, "0.9,1\n0.2,0\n", "e1", encoding=encoding))]
    )
    (record,) = capture.records
    assert (record.event_id, record.inference_id, record.key) == ("e1", None, "e1")
    rows, rejected = decode_inputs(capture)
    assert rows == [[1.5, 2.0, None, "abc"], [3.0, 4.0, 5.0, 6.0]] and rejected == []
    predictions, _ = decode_outputs(capture, "binary")
    assert [(p.key, p.row, p.label, p.score) for p in predictions] == [
        ("e1", 0, "1", 0.9),
        ("e1", 1, "0", 0.2),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "[[1, null, 3]]",
        "[1, null, 3]",
        '{"instances": [[1, null, 3]]}',
    ],
)
def test_json_requests_in_every_shape_the_endpoint_accepts(body: str) -> None:
    line = capture_line(body, "{}", "e", request_type="application/json; charset=utf-8")
    rows, rejected = decode_inputs(read_capture([("f", line)]))
    assert rows == [[1.0, None, 3.0]] and rejected == []


def test_json_values_that_are_not_numbers_stay_text() -> None:
    line = capture_line('[[true, "x", 1e400, 10]]', "{}", "e", request_type="application/json")
    (row,), _ = decode_inputs(read_capture([("f", line)]))
    assert row[:2] == ["true", "x"] and math.isinf(row[2]) and row[3] == 10.0


def test_npy_requests_are_read_from_base64() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(6, dtype=np.float32).reshape(2, 3))
    line = capture_line(
        buffer.getvalue(), b"1\n2\n", "e", request_type="application/x-npy", encoding="BASE64"
    )
    rows, rejected = decode_inputs(read_capture([("f", line)]))
    assert rows == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and rejected == []


@pytest.mark.parametrize(
    ("problem_type", "answer", "answer_type", "expected"),
    [
        ("binary", '{"predictions": [{"probability": 0.7, "label": 1}]}', "application/json",
         [("1", 0.7, None, None)]),
        ("multiclass", '"a,b",0.2,0.8\n', "text/csv", [("a,b", None, (0.2, 0.8), None)]),
        ("multiclass",
         '{"predictions": [{"label": "y", "probabilities": {"x": 0.4, "y": 0.6}}]}',
         "application/json", [("y", None, (0.4, 0.6), ("x", "y"))]),
        ("regression", "12.5\n", "text/csv", [(None, 12.5, None, None)]),
        ("regression", '{"predictions": [{"value": -3}]}', "application/json",
         [(None, -3.0, None, None)]),
    ],
)  # fmt: skip
def test_answers_decode_per_problem_type(problem_type, answer, answer_type, expected) -> None:
    line = capture_line("1,2", answer, "e", answer_type=answer_type, inference_id="i-7")
    predictions, rejected = decode_outputs(read_capture([("f", line)]), problem_type)
    assert rejected == []
    assert [(p.label, p.score, p.probabilities, p.classes) for p in predictions] == expected
    assert {p.key for p in predictions} == {"i-7"}  # the caller's inference id wins


def test_records_that_cannot_be_used_are_counted_with_their_reason() -> None:
    good = capture_line("1,2", "0.5,1", "good")
    bad_base64 = capture_line("1,2", "0.5,1", "b64").replace(
        '"encoding": "CSV"', '"encoding": "BASE64"'
    )
    lines = [
        good,
        "not json",
        "[1, 2]",
        json.dumps({"captureData": {}, "eventMetadata": {}}),
        bad_base64,
        capture_line("1,2", "0.5,1", "enc").replace('"CSV"', '"XML"'),
        capture_line("1,2", "0.5,1", "type", request_type="text/plain", answer_type="text/html"),
        capture_line("[[1, [2]]]", "0.5,2", "nested", request_type="application/json"),
        "",
        json.dumps({"captureData": {}, "eventMetadata": {"eventId": "empty"}}),
    ]
    capture = read_capture([("capture.jsonl", "\n".join(lines).encode())])
    assert [r.event_id for r in capture.records] == ["good", "type", "nested", "empty"]
    reasons = {r.source: r.reason for r in capture.rejected}
    assert reasons == {
        "capture.jsonl:2": "not JSON: Expecting value: line 1 column 1 (char 0)",
        "capture.jsonl:3": "not a JSON object",
        "capture.jsonl:4": "eventMetadata.eventId is missing",
        "capture.jsonl:5": "endpointInput.data is not valid base64",
        "capture.jsonl:6": "endpointInput.encoding 'XML' is not one of CSV, JSON, BASE64",
    }
    rows = decode_inputs(capture)
    assert rows.rows == [[1.0, 2.0]]
    assert [r.reason for r in rows.rejected[5:]] == [
        "request content type 'text/plain' is not text/csv, application/json or application/x-npy",
        "a JSON row holds a nested list or object",
        "the record holds no endpointInput or endpointOutput to decode",
    ]
    answers = decode_outputs(capture, "binary")
    assert [p.key for p in answers.predictions] == ["good"]
    assert [r.reason for r in answers.rejected[5:]] == [
        "answer content type 'text/html' is not text/csv or application/json",
        "answer row 1 is not a binary prediction: ['0.5', '2']",
        "the record holds no endpointInput or endpointOutput to decode",
    ]


def test_an_unknown_problem_type_is_refused() -> None:
    with pytest.raises(ValueError, match="problem type 'ranking' is not one of binary"):
        decode_outputs(read_capture([]), "ranking")


cells = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(-(10**6), 10**6).map(float),
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 4).flatmap(
        lambda width: st.lists(
            st.lists(cells, min_size=width, max_size=width), min_size=1, max_size=5
        )
    ),
    encoding=st.sampled_from(["CSV", "BASE64"]),
    as_json=st.booleans(),
)
def test_any_rows_survive_capture_in_either_format(rows, encoding, as_json) -> None:
    if as_json:
        body, content_type = json.dumps(rows), "application/json"
    else:
        body = "".join(",".join("" if v is None else repr(v) for v in row) + "\n" for row in rows)
        content_type = "text/csv"
    line = capture_line(body, "1\n", "e", request_type=content_type, encoding=encoding)
    decoded, rejected = decode_inputs(read_capture([("f", line)]))
    assert rejected == [] and decoded == rows
