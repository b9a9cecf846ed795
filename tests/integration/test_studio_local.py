"""`sagestack local studio` against the lifecycle's emulator: every notebook of notebooks/ runs
top to bottom in the Studio kernel (its key cells assert their results), and a real headless
Chromium opens JupyterLab, sees the notebook list and opens a notebook.

These tests live beside the lifecycle tests because they need its deployed, trained and served
platform, which tests/integration/conftest.py builds once per session for this xdist group.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from sagestack import demo
from sagestack.local.studio import (
    KERNEL_NAME,
    NOTEBOOKS_DIR,
    Studio,
    kernel_environment,
    start_studio,
    write_kernel,
)
from tests.synth import ROOT

pytestmark = pytest.mark.integration

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
MODEL = "cancer"  # the notebooks' default MODEL: its endpoint is the one served to the kernel
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "build" / "test-artifacts"
NO_CHROMIUM = (
    f"the Studio browser check did not run: Chromium is not installed at {CHROMIUM} "
    "(sudo apt-get install -y chromium chromium-driver)"
)
CELL_TIMEOUT_SECONDS = 120
STUDIO = "sagestack-dev-studio"  # the stack and the domain share the name


class ChromiumMissing(UserWarning):
    """Shown in the warnings summary when the browser check could not run."""


@pytest.fixture(scope="session")
def studio_dir(lifecycle: demo.DemoState, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Jupyter's folders with the Studio kernel: emulator, and the model's local endpoint."""
    endpoint = lifecycle.models[MODEL].endpoint
    assert lifecycle.server is not None and endpoint is not None
    directory = tmp_path_factory.mktemp("studio")
    write_kernel(directory, kernel_environment(lifecycle.server, lifecycle.region, endpoint.url))
    return directory


@pytest.fixture(scope="session")
def jupyterlab(lifecycle: demo.DemoState, studio_dir: Path) -> Iterator[Studio]:
    endpoint = lifecycle.models[MODEL].endpoint
    assert lifecycle.server is not None and endpoint is not None
    studio = start_studio(
        lifecycle.server, region=lifecycle.region, jupyter_dir=studio_dir, runtime_url=endpoint.url
    )
    yield studio
    studio.stop()


def test_every_notebook_is_tested() -> None:
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom_against_the_emulator(studio_dir: Path, path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    specs = KernelSpecManager(kernel_dirs=[str(studio_dir / "kernels")])
    kernel = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    client = NotebookClient(
        notebook,
        km=kernel,
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # CellExecutionError names the cell and its traceback
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    outputs = [output for cell in code for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    if "matplotlib" in path.read_text(encoding="utf-8"):
        assert any("image/png" in output.get("data", {}) for output in outputs)


def test_browser_opens_studio_lists_the_notebooks_and_opens_one(jupyterlab: Studio) -> None:
    if not CHROMIUM.exists():
        warnings.warn(NO_CHROMIUM, ChromiumMissing, stacklevel=1)
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(jupyterlab.lab_url)
            listing = page.locator(".jp-DirListing-item")
            listing.filter(has_text=NOTEBOOKS[0].name).wait_for(timeout=60_000)
            shown = " ".join(listing.all_inner_texts())
            assert all(path.name in shown for path in NOTEBOOKS), shown
            page.screenshot(path=str(ARTIFACTS / "studio-notebook-list.png"))
            opened = NOTEBOOKS[-1]
            listing.filter(has_text=opened.name).dblclick()
            panel = page.locator(".jp-NotebookPanel:visible")
            panel.locator(".jp-Cell").first.wait_for(timeout=60_000)
            # The kernel the notebook runs on is the Studio one (pointed at the emulator).
            kernel = panel.locator(".jp-Toolbar-kernelName")
            kernel.filter(has_text="Python 3 (sagestack emulator)").wait_for(timeout=60_000)
            assert "invoke_endpoint" in panel.inner_text()
            page.screenshot(path=str(ARTIFACTS / "studio-notebook.png"))
        finally:
            browser.close()


def test_studio_refuses_a_busy_port_in_one_line(
    lifecycle: demo.DemoState, jupyterlab: Studio
) -> None:
    port = jupyterlab.url.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "sagestack.cli", "local", "studio", "--port", port]
    command += ["--state-dir", str(lifecycle.emulator_dir)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"sagestack: port {port} on 127.0.0.1 is in use; choose another with --port"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_studio_names_an_unknown_model_in_one_line() -> None:
    command = [sys.executable, "-m", "sagestack.cli", "local", "studio", "--model", "nope"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "hosts no model 'nope'" in result.stderr


def test_emulator_deployed_the_studio_domain_and_profiles(lifecycle: demo.DemoState) -> None:
    config = lifecycle.environment.config
    sagemaker = lifecycle.client("sagemaker")
    (domain,) = [d for d in sagemaker.list_domains()["Domains"] if d["DomainName"] == STUDIO]
    described = sagemaker.describe_domain(DomainId=domain["DomainId"])
    assert described["AppNetworkAccessType"] == "VpcOnly"
    assert described["DefaultUserSettings"]["SharingSettings"] == {
        "NotebookOutputOption": "Disabled"
    }
    resources = lifecycle.client("cloudformation").list_stack_resources(StackName=STUDIO)
    profiles = [
        r
        for r in resources["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::SageMaker::UserProfile"
    ]
    assert {r["ResourceStatus"] for r in profiles} == {"CREATE_COMPLETE"}
    assert sorted(r["PhysicalResourceId"].rsplit("/", 1)[1] for r in profiles) == sorted(
        p.name for p in config.studio.user_profiles
    )
