"""The notebooks as committed: valid, outputs stripped, opening on the standard kernel, and each
one checking its own results (tests/integration/test_studio_local.py runs them)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from sagestack.local.studio import KERNEL_NAME, NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_the_worked_notebooks_are_there() -> None:
    names = [path.stem for path in NOTEBOOKS]
    assert names == [
        "01-explore-raw-data",
        "02-run-the-training-pipeline",
        "03-evaluation-and-registry",
        "04-invoke-the-endpoint",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_outputs_are_stripped(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {index} was executed"
        assert "attachments" not in cell, f"{path.name} cell {index} carries an attachment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_as_studio_would_and_checks_its_results(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == KERNEL_NAME
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].splitlines()[1].startswith("MODEL = "), "the first cell sets the parameters"
    source = "\n".join(code)
    # The same code as in Studio: no endpoint URL nor credentials in the notebook.
    for local_only in ("endpoint_url", "127.0.0.1", "localhost", "aws_access_key_id"):
        assert local_only not in source
    assert source.count("assert ") >= 2
