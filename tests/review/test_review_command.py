"""`sagestack review` end to end: a git repository, a real code change, two real synths."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sagestack.cli import main
from sagestack.review import command
from sagestack.review.command import EXIT_DESTRUCTIVE
from sagestack.review.engine import Review
from sagestack.review.report import MARKER, checked_classes
from sagestack.review.risks import Category
from tests.synth import ROOT


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def project_repo(tmp_path: Path) -> Path:
    """A fresh repository whose one commit is a copy of the project's working tree."""
    repo = tmp_path / "project"
    for name in git(ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "base")
    for tools in (".venv", "node_modules"):
        (repo / tools).symlink_to(ROOT / tools, target_is_directory=True)
    return repo


def test_renaming_a_bucket_in_code_fails_the_review(
    project_repo: Path, tmp_path: Path, capsys
) -> None:
    layout = project_repo / "ground" / "layout.py"
    code = layout.read_text()
    assert 'RAW_DATA, ARTIFACTS = "access-logs", "raw-data", ' in code
    layout.write_text(code.replace('"raw-data", ', '"raw-datasets", '))
    report_path = tmp_path / "review.md"

    exit_code = main(
        [
            "review",
            "--base",
            "HEAD",
            "--envs",
            "dev",
            "--repo",
            str(project_repo),
            "--output",
            str(report_path),
        ]
    )

    assert exit_code == EXIT_DESTRUCTIVE
    assert "1 destructive change(s)" in capsys.readouterr().err
    report = report_path.read_text()
    assert report.startswith(MARKER)
    assert "| `dev/data/RawData/Bucket (RawDataBucket" in report
    assert "BucketName changed" in report
    assert "sagestack-dev-raw-datasets-123456789012-eu-west-1" in report
    assert "#### staging" not in report, "--envs dev reviews dev only"
    # The grants and the acknowledgment naming the bucket follow it: not new permissions.
    assert f"#### {Category.IAM.value}" not in report
    assert f"#### {Category.ACKNOWLEDGMENT.value}" not in report
    assert "moved with `dev/data/RawData/Bucket (RawDataBucket46CFA8FB)`" in report
    # The base worktree is gone again.
    assert git(project_repo, "worktree", "list").count("\n") == 1


def test_an_unknown_base_ref_is_named(project_repo: Path, capsys) -> None:
    exit_code = main(["review", "--base", "origin/nope", "--repo", str(project_repo)])
    assert exit_code == 1
    assert "git ref 'origin/nope' names no commit" in capsys.readouterr().err


def test_outside_a_repository_says_so(tmp_path: Path, capsys) -> None:
    exit_code = main(["review", "--base", "HEAD", "--repo", str(tmp_path)])
    assert exit_code == 1
    assert "is not inside a git repository" in capsys.readouterr().err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_config_error_in_either_tree_is_one_line_naming_file_and_field(
    project_repo: Path, capsys
) -> None:
    """The base has an invalid CIDR; the working tree fixes it but misspells the policy."""
    dev = project_repo / "config" / "dev.yaml"
    edit(dev, "cidr: 10.10.0.0/16", "cidr: 10.10.0.0/8")
    git(project_repo, "commit", "--quiet", "--all", "--message", "broken base")
    edit(dev, "cidr: 10.10.0.0/8", "cidr: 10.10.0.0/16")
    edit(dev, "removal_policy: destroy", "removal_policy: destory")

    exit_code = main(["review", "--base", "HEAD", "--envs", "dev", "--repo", str(project_repo)])

    assert exit_code == 1
    base_error, head_error = capsys.readouterr().err.splitlines()
    assert base_error.startswith("sagestack review: cdk synth of base HEAD failed: invalid ")
    assert "/config/dev.yaml: network.cidr: '10.10.0.0/8' is not an IPv4 network" in base_error
    assert head_error.startswith(f"cdk synth of the working tree ({project_repo}) failed: ")
    assert f"{dev}: removal_policy: " in head_error
    assert "Traceback" not in base_error + head_error


def test_an_unwritable_report_is_one_line(
    review: Review, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(command, "run_review", lambda args: (review, None))
    missing = tmp_path / "missing" / "review.md"
    assert main(["review", "--base", "HEAD", "--output", str(missing)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("sagestack review: [Errno 2] No such file or directory")


def test_the_console_says_what_was_checked(
    review: Review, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(command, "run_review", lambda args: (review, None))
    exit_code = main(["review", "--base", "HEAD", "--output", str(tmp_path / "review.md")])
    assert exit_code == EXIT_DESTRUCTIVE
    assert (
        f"sagestack review checked for: {checked_classes()}" in capsys.readouterr().err.splitlines()
    )
