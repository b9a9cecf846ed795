"""How long a full synth takes against an empty CDK app's, measured in the same run.

The full synth: dev, staging and prod with every model of config/models/ pinned in every
environment (a copy of config/ where each model's pin names a dev package and its baseline, as
`sagestack promote` writes them), so serving and monitoring stacks exist everywhere. The empty
app: one empty `cdk.Stack` (the CLI refuses an app without stacks) with the same Python, Node
and CDK CLI. Both through `cdk synth --quiet`, alternating, `--runs` times each (default 3);
the table gives each run and the medians.

    PATH=$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH .venv/bin/python bench/synth_ratio.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ground.config.loader import CONFIG_DIR, environment_names, load_environments  # noqa: E402
from sagestack.promotion.pin import pin_path, rewrite_pin  # noqa: E402

DEV_ACCOUNT, REGION = "123456789012", "eu-west-1"


def pinned_config(directory: Path) -> Path:
    """config/ with every model pinned in every environment."""
    config = directory / "config"
    shutil.copytree(CONFIG_DIR, config)
    bucket = f"s3://sagestack-dev-ml-artifacts-{DEV_ACCOUNT}-{REGION}"
    for path in sorted((config / "models").glob("*.yaml")):
        model = path.stem
        arn = f"arn:aws:sagemaker:{REGION}:{DEV_ACCOUNT}:model-package/sagestack-dev-{model}/1"
        baseline = f"{bucket}/models/sagestack-dev-{model}-training/run-1/baseline/"
        text = path.read_text(encoding="utf-8")
        for environment in environment_names(config):
            text = rewrite_pin(text, pin_path(environment), arn, str(path), baseline)
        path.write_text(text, encoding="utf-8")
    load_environments([], config)  # the pins are valid: a refused config would time an error
    return config


def empty_app(directory: Path) -> Path:
    app = directory / "empty-app"
    app.mkdir()
    code = "import aws_cdk as cdk\n\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"
    (app / "app.py").write_text(code)
    (app / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    return app


def timed_synth(cwd: Path, outdir: Path, *context: str) -> float:
    command = ["cdk", "synth", "--quiet", "--output", str(outdir)]
    for item in context:
        command += ["--context", item]
    environment = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"}
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sagestack-synth-bench-") as scratch:
        work = Path(scratch)
        config, app = pinned_config(work), empty_app(work)
        empty, full = [], []
        for run in range(args.runs):
            empty.append(timed_synth(app, work / f"empty-{run}"))
            full.append(timed_synth(ROOT, work / f"full-{run}", f"config_dir={config}"))
            stacks = len(list((work / f"full-{run}").rglob("*.template.json")))
    print("| run | empty app | full synth (every model pinned) |")
    print("|---|---|---|")
    for run, (e, f) in enumerate(zip(empty, full, strict=True), 1):
        print(f"| {run} | {e:.1f} s | {f:.1f} s |")
    ratio = statistics.median(full) / statistics.median(empty)
    print(
        f"\nmedians: empty {statistics.median(empty):.1f} s, full {statistics.median(full):.1f} s "
        f"({stacks} templates): {ratio:.1f}x"
    )


if __name__ == "__main__":
    main()
