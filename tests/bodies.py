"""Request bodies shared by the tests of inference.py and of the local endpoint: .npy files
(whole, zipped, or a header declaring what the data does not hold) and any JSON document."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import strategies as st

json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers(-(10**400), 10**400)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz(rows: int = 2, columns: int = 3) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, rows=np.zeros((rows, columns)))
    return buffer.getvalue()


def npy_declaring(shape: tuple[int, ...], descr: object = "<f8", data: bytes = bytes(64)) -> bytes:
    """A .npy header declaring `shape` of `descr`, followed by `data` whatever they declare."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data
