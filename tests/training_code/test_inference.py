"""The XGBoost inference.py handlers and serving.py's parsers: every content type, both CSV
parsers, and clear client errors.

Property-based (hypothesis): well-formed rows round-trip exactly, the fast (pyarrow) and plain
CSV parsers agree on any text, no body of any type (any bytes, any JSON document, any .npy
file damaged anywhere) raises anything but a RequestError, and any Accept header gets an answer
type or a 406."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from code_families import family
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import (
    array_shapes,
    arrays,
    floating_dtypes,
    integer_dtypes,
    unsigned_integer_dtypes,
)

from tests.bodies import json_documents, npy, npy_declaring, npz

XGBOOST = family("xgboost")
inference, serving = XGBOOST.inference, XGBOOST.serving  # the serving.py this inference.py uses
ANSWER_TYPES = serving.ANSWER_TYPES
CSV = serving.CSV
JSON = serving.JSON
MAX_FEATURES = serving.MAX_FEATURES
NPY = serving.NPY
SMALL_CSV_BYTES = serving.SMALL_CSV_BYTES
RequestError = serving.RequestError
choose_accept = serving.choose_accept
parse_csv = serving.parse_csv
parse_csv_arrow = serving.parse_csv_arrow
parse_csv_python = serving.parse_csv_python
parse_npy = serving.parse_npy
Model, model_fn, predict_fn = inference.Model, inference.model_fn, inference.predict_fn
input_fn, output_fn = inference.input_fn, inference.output_fn

FAST = settings(max_examples=60, deadline=None)
finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
matrices = arrays(np.float32, st.tuples(st.integers(1, 30), st.integers(1, 8)), elements=finite32)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Model:
    return model_fn(str(model_dir))


@pytest.fixture(autouse=True)
def no_model_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """model_fn records its model's feature count for input_fn, which then refuses CSV rows of
    another width: each test starts with none recorded, whatever ran before it."""
    monkeypatch.setattr(serving, "_model_features", None)


def _csv(rows: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def _status(call, *args) -> tuple[int, str]:
    with pytest.raises(RequestError) as caught:
        call(*args)
    return caught.value.status_code, str(caught.value)


@FAST
@given(matrices)
def test_rows_round_trip_through_every_content_type(rows: np.ndarray) -> None:
    np.testing.assert_array_equal(input_fn(_csv(rows), CSV), rows)
    np.testing.assert_array_equal(input_fn(json.dumps(rows.tolist()), JSON), rows)
    np.testing.assert_array_equal(input_fn(npy(rows), NPY), rows)


@FAST
@given(arrays(np.float32, st.tuples(st.integers(1, 400), st.integers(1, 12)), elements=finite32))
def test_fast_csv_parser_reads_what_the_plain_one_reads(rows: np.ndarray) -> None:
    body = _csv(rows)
    np.testing.assert_array_equal(parse_csv_arrow(body, rows.shape[1]), rows)
    np.testing.assert_array_equal(parse_csv_python(body), rows)


token = st.sampled_from(["1", "-2.5", "1e3", ".5", "", "nan", "abc", " 3", "1,2", "\n", "\r\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(token, min_size=1, max_size=40), st.integers(1, 2000))
def test_both_csv_parsers_agree_on_any_text(tokens: list[str], repeat: int) -> None:
    """Whatever the text, the fast path answers exactly what the plain parser answers."""
    body = (",".join(tokens) + "\n").encode() * (SMALL_CSV_BYTES // 4 // repeat + 1)
    outcomes = []
    for parser in (lambda text: parse_csv(text, None), parse_csv_python):
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
        (npy(np.array(["a"])), NPY, 400, "must hold numbers, not <U1"),
        (npy(np.zeros((1, 1, 1))), NPY, 400, "must be non-empty 1-D or 2-D, not (1, 1, 1)"),
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


def _must_not_parse(*_: object) -> None:
    raise AssertionError("the body was parsed")


@pytest.mark.parametrize(
    ("body", "width"),
    [
        (b"1,2,3\n", 3),
        (b"0," * 30 + b"0\n" + b"0," * 29 + b"0\n", 31),
        (b"," * 5_000_000, 5_000_001),  # pyarrow would declare 5,000,001 columns
        (b"0" + b"\n" * 1_000_000, 1),  # the plain parser would read a million rows
    ],
)
def test_csv_rows_of_another_width_than_the_model_are_refused_unparsed(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, body: bytes, width: int
) -> None:
    model_fn(str(model_dir))  # records the model's 30 features
    assert input_fn(b"0," * 29 + b"0\n", CSV).shape == (1, 30)
    monkeypatch.setattr(serving, "parse_csv_arrow", _must_not_parse)
    monkeypatch.setattr(serving, "parse_csv_python", _must_not_parse)
    assert _status(input_fn, body, CSV) == (
        400,
        f"each row needs 30 features; text/csv row 1 has {width}",
    )


def test_without_a_model_csv_rows_are_bounded_by_max_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serving, "parse_csv_arrow", _must_not_parse)
    monkeypatch.setattr(serving, "parse_csv_python", _must_not_parse)
    width = MAX_FEATURES + 1
    assert _status(parse_csv, b"," * (width - 1), None) == (
        400,
        f"text/csv row 1 has {width} values; a row may hold at most {MAX_FEATURES}",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"[1" + b"0" * 400 + b"]",
            "JSON row 1, column 1: 1000000000000000000000000000000000000000 is too large for a "
            "number (beyond ±1.8e308)",
        ),
        (b'{"instances": [[0.5, -1' + b"0" * 400 + b"]]}", "row 1, column 2: -10000"),
        (b"[1" + b"0" * 5000 + b"]", "the application/json body is not valid JSON: Exceeds"),
        (
            b"[" * 5000 + b"]" * 5000,
            "the application/json body nests arrays or objects too deeply; "
            "send rows as [[...], ...]",
        ),
        (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "nests arrays or objects too deeply"),
        (b'{"instances": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nests arrays or objects too"),
        (b"[[" + b"[" * 600 + b"1" + b"]" * 600 + b"]]", "JSON row 1, column 1: [[...]] is not"),
        (b'[[1, {"a": [[2]], "b": 3}]]', 'JSON row 1, column 2: {"a": [...], "b": 3} is not'),
    ],
)
def test_odd_json_gets_a_one_line_400_naming_what_is_wrong(body: bytes, message: str) -> None:
    status, text = _status(input_fn, body, JSON)
    assert (status, message in text, "\n" in text) == (400, True, False), text


@settings(max_examples=200, deadline=None)
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(json_documents, st.booleans())
def test_any_json_document_is_decoded_or_refused_in_one_line(document, wrapped: bool) -> None:
    body = json.dumps({"instances": document} if wrapped else document).encode()
    try:
        rows = input_fn(body, JSON)
    except RequestError as error:
        assert error.status_code == 400 and str(error) and "\n" not in str(error)
    else:
        assert rows.ndim == 2 and rows.dtype == np.float32 and rows.size > 0


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 6000), st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b"[{", b"}]")]))
def test_json_nested_to_any_depth_gets_a_400(depth: int, brackets: tuple[bytes, bytes]) -> None:
    opening, closing = brackets
    status, text = _status(input_fn, opening * depth + b"1" + closing * depth, JSON)
    assert status == 400 and "\n" not in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            npz(),
            "the application/x-npy body is a zip archive (numpy.savez writes those); "
            "send one array written by numpy.save",
        ),
        (b"PK\x03\x04" + bytes(100), "the application/x-npy body is a zip archive"),
        (
            npy_declaring((1_000_000_000, 30)),
            "the .npy header declares (1000000000, 30) float64 values (240,000,000,000 bytes) "
            "but 64 bytes of data follow it",
        ),
        (npy(np.zeros((1, 3), np.float32)) + b"extra", "(12 bytes) but 17 bytes of data"),
        (npy(np.zeros((2, 3), np.float32))[:-1], "(24 bytes) but 23 bytes of data"),
        (
            npy_declaring((-1, -2), "<f4", bytes(8)),
            "must be non-empty 1-D or 2-D, not (-1, -2)",
        ),
        (
            npy_declaring((1,), "|O", bytes(8)),
            "must hold numbers, not object",
        ),
        (
            npy_declaring((1,), [("a", "<f4")], bytes(4)),
            "must hold numbers, not [('a', '<f4')]",
        ),
        (b"\x93NUMPY\x03\x00" + bytes(10), "format version 3.0 is not 1.0 or 2.0"),
        (b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", "not a .npy array: EOF"),
    ],
)
def test_bad_npy_bodies_get_a_one_line_400(body: bytes, message: str) -> None:
    status, text = _status(input_fn, body, NPY)
    assert (status, message in text, "\n" in text) == (400, True, False), text


npy_dtypes = (
    integer_dtypes(endianness="?")
    | unsigned_integer_dtypes(endianness="?")
    | floating_dtypes(endianness="?")
)


@FAST
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(arrays(npy_dtypes, array_shapes(min_dims=1, max_dims=2, max_side=6)), st.booleans())
def test_npy_arrays_of_any_numeric_dtype_and_order_are_read(array, fortran: bool) -> None:
    array = np.asfortranarray(array) if fortran else array
    rows = parse_npy(npy(array))
    np.testing.assert_array_equal(rows, np.atleast_2d(array).astype(np.float32))
    assert rows.dtype == np.float32 and rows.flags.c_contiguous


@settings(max_examples=200, deadline=None)
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(
    arrays(npy_dtypes, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    st.lists(st.tuples(st.integers(0, 160), st.integers(0, 255)), max_size=4),
    st.integers(0, 200),
)
def test_any_damage_to_a_npy_file_gets_a_client_error(array, changes, cut: int) -> None:
    body = bytearray(npy(array))
    for position, value in changes:
        body[position % len(body)] = value
    try:
        rows = input_fn(bytes(body[: max(len(body) - cut, 0)]), NPY)
    except RequestError as error:
        assert error.status_code == 400 and str(error) and "\n" not in str(error)
    else:
        assert rows.ndim == 2 and rows.dtype == np.float32 and rows.size > 0


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("*", JSON),
        ("application/*", JSON),
        ("text/csv", CSV),
        ("TEXT/CSV; charset=utf-8", CSV),
        ("text/*", CSV),
        ("application/json, text/csv", JSON),
        ("text/csv, application/json", CSV),
        ("application/json;q=0.4, text/*;q=0.5", CSV),
        ("text/csv;q=0.9, */*", JSON),
        ("text/csv;q=0, */*", JSON),
        ("*/*;q=0.1, text/csv;q=0", JSON),
        ("text/*;q=0, text/csv", CSV),
        ("text/csv;q=2, application/json;q=0.1", JSON),
        ("text/csv;q=0, application/xml", 406),
        ("application/json;q=0, text/csv;q=0.000", 406),
        ("*/*;q=0", 406),
        ("text/csv;q=abc", 406),
        ("image/png", 406),
    ],
)
def test_accept_q_values_choose_the_answer_type(accept: str | None, expected: str | int) -> None:
    if expected == 406:
        assert _status(choose_accept, accept) == (
            406,
            f"cannot answer in '{accept}'; accept text/csv or application/json",
        )
    else:
        assert choose_accept(accept) == expected


media_ranges = st.sampled_from(
    ["text/csv", "application/json", "text/*", "application/*", "*/*", "*", "image/png", ""]
)
q_values = st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=1.5", ";q=x", ";Q=0.2", "; q=0.9"])
accept_headers = st.lists(st.tuples(media_ranges, q_values), max_size=4).map(
    lambda ranges: ", ".join(media + q for media, q in ranges)
)


@settings(max_examples=200, deadline=None)
@given(accept_headers | st.text(max_size=40))
def test_any_accept_header_gets_an_answer_type_or_a_406(accept: str) -> None:
    try:
        assert choose_accept(accept) in ANSWER_TYPES
    except RequestError as error:
        assert error.status_code == 406
