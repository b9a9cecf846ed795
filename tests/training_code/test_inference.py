"""The XGBoost inference.py handlers and serving.py's parsers: every content type, both CSV
parsers, and clear client errors.

Property-based (hypothesis): well-formed rows round-trip exactly, the fast (pyarrow) and plain
CSV parsers agree on any text, and no body of any type raises anything but a RequestError."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from code_families import family
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from serving import (
    CSV,
    JSON,
    NPY,
    SMALL_CSV_BYTES,
    RequestError,
    parse_csv,
    parse_csv_arrow,
    parse_csv_python,
)

inference = family("xgboost").inference
Model, model_fn, predict_fn = inference.Model, inference.model_fn, inference.predict_fn
input_fn, output_fn = inference.input_fn, inference.output_fn
FAST = settings(max_examples=60, deadline=None)
finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
matrices = arrays(np.float32, st.tuples(st.integers(1, 30), st.integers(1, 8)), elements=finite32)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Model:
    return model_fn(str(model_dir))


def _csv(rows: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _status(call, *args) -> tuple[int, str]:
    with pytest.raises(RequestError) as caught:
        call(*args)
    return caught.value.status_code, str(caught.value)


@FAST
@given(matrices)
def test_rows_round_trip_through_every_content_type(rows: np.ndarray) -> None:
    np.testing.assert_array_equal(input_fn(_csv(rows), CSV), rows)
    np.testing.assert_array_equal(input_fn(json.dumps(rows.tolist()), JSON), rows)
    np.testing.assert_array_equal(input_fn(_npy(rows), NPY), rows)


@FAST
@given(arrays(np.float32, st.tuples(st.integers(1, 400), st.integers(1, 12)), elements=finite32))
def test_fast_csv_parser_reads_what_the_plain_one_reads(rows: np.ndarray) -> None:
    body = _csv(rows)
    np.testing.assert_array_equal(parse_csv_arrow(body), rows)
    np.testing.assert_array_equal(parse_csv_python(body), rows)


token = st.sampled_from(["1", "-2.5", "1e3", ".5", "", "nan", "abc", " 3", "1,2", "\n", "\r\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(token, min_size=1, max_size=40), st.integers(1, 2000))
def test_both_csv_parsers_agree_on_any_text(tokens: list[str], repeat: int) -> None:
    """Whatever the text, the fast path answers exactly what the plain parser answers."""
    body = (",".join(tokens) + "\n").encode() * (SMALL_CSV_BYTES // 4 // repeat + 1)
    outcomes = []
    for parser in (parse_csv, parse_csv_python):
        try:
            outcomes.append(parser(body))
        except RequestError as error:
            outcomes.append(str(error))
    if isinstance(outcomes[0], str):
        assert outcomes[0] == outcomes[1]
    else:
        np.testing.assert_array_equal(outcomes[0], outcomes[1])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([CSV, JSON, NPY]))
def test_any_body_is_decoded_or_refused_with_a_client_error(body: bytes, content_type: str) -> None:
    try:
        rows = input_fn(body, content_type)
    except RequestError as error:
        assert 400 <= error.status_code < 500 and str(error)
    else:
        assert rows.ndim == 2 and rows.dtype == np.float32 and rows.size > 0


def test_missing_values_are_nan() -> None:
    rows = input_fn(b"1,,3\n4,5,\n", "text/csv; charset=utf-8")
    assert math.isnan(rows[0, 1]) and math.isnan(rows[1, 2])
    assert math.isnan(input_fn(b'{"instances": [[1, null]]}', JSON)[0, 1])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", CSV, 400, "the request body is empty"),
        (b"  \n", JSON, 400, "the request body is empty"),
        (b"1,2", "text/plain", 415, "content type 'text/plain' is not supported"),
        (b"1,2", None, 415, "content type 'None' is not supported"),
        (b"1,2\n3\n", CSV, 400, "text/csv row 2 has 1 values but row 1 has 2"),
        (b"1,x2\n", CSV, 400, "text/csv row 1, column 2: 'x2' is not a number"),
        (b"1,inf\n", CSV, 400, "row 1 holds an infinite value"),
        (b"\xff\xfe", CSV, 400, "not UTF-8"),
        (b"[1, 2", JSON, 400, "not valid JSON"),
        (b'[[1, "2"]]', JSON, 400, 'JSON row 1, column 2: "2" is not a number'),
        (b"[[1, true]]", JSON, 400, "JSON row 1, column 2: true is not a number"),
        (b"[[1, 2], [3]]", JSON, 400, "JSON row 2 has 1 values but row 1 has 2"),
        (b'{"rows": [[1]]}', JSON, 400, 'needs exactly one key, "instances"'),
        (b"[]", JSON, 400, "non-empty list of rows"),
        (b"[[[1]]]", JSON, 400, "JSON row 1, column 1: [1] is not a number"),
        (b"not npy", NPY, 400, "not a .npy array"),
        (_npy(np.array(["a"])), NPY, 400, "must hold numbers, not <U1"),
        (_npy(np.zeros((1, 1, 1))), NPY, 400, "must be non-empty 1-D or 2-D, not (1, 1, 1)"),
    ],
)
def test_bad_bodies_get_a_clear_client_error(
    body: bytes, content_type: str | None, status: int, message: str
) -> None:
    assert _status(input_fn, body, content_type)[0] == status
    assert message in _status(input_fn, body, content_type)[1]


def test_predictions_and_both_answer_types(model: Model) -> None:
    rows = np.zeros((3, len(model.spec.feature_names)), dtype=np.float32)
    prediction = predict_fn(rows, model)
    assert prediction.scores.shape == (3,)
    assert set(prediction.labels.tolist()) <= {0, 1}
    body, content_type = output_fn(prediction, "text/csv")
    assert content_type == CSV and len(body.splitlines()) == 3
    probability, label = body.splitlines()[0].split(",")
    assert 0 <= float(probability) <= 1 and label in ("0", "1")
    for accept in ("application/json", "*/*", None, "text/html, application/json;q=0.9"):
        body, content_type = output_fn(prediction, accept)
        assert content_type == JSON
        assert len(json.loads(body)["predictions"]) == 3


def test_wrong_feature_count_and_accept_are_client_errors(model: Model) -> None:
    status, message = _status(predict_fn, np.zeros((1, 3), dtype=np.float32), model)
    assert status == 400
    assert "each row needs 30 features" in message and "the request has 3" in message
    prediction = predict_fn(np.zeros((1, 30), dtype=np.float32), model)
    assert _status(output_fn, prediction, "image/png") == (
        406,
        "cannot answer in 'image/png'; accept text/csv or application/json",
    )
