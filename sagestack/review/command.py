"""`sagestack review --base REF`: the infrastructure review of a change, as one markdown report.

Exit status: 0 when the report is written and nothing destructive is found (or it is
allowed), 3 when stateful or network resources would be replaced or deleted, or stateful
resources would lose their retention, 1 on any error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sagestack.assembly import CloudAssembly
from sagestack.cdk_cli import CdkError, SynthJob, diff_deployed, synth_all
from sagestack.review import worktree
from sagestack.review.engine import Review, review_assemblies
from sagestack.review.report import checked_classes, render

EXIT_DESTRUCTIVE = 3


@contextmanager
def _assemblies_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="sagestack-review-") as scratch:
        yield Path(scratch)


def synthesize_both(
    repo: Path, base_ref: str, out_dir: Path, context: dict[str, str]
) -> tuple[CloudAssembly, CloudAssembly]:
    """Synthesize `base_ref` (in a temporary worktree) and the working tree, side by side."""
    with worktree.checkout(repo, base_ref, tools_from=repo) as base_tree:
        synth_all(
            SynthJob(base_tree, out_dir / "base", context, f"base {base_ref}"),
            SynthJob(repo, out_dir / "head", context, f"the working tree ({repo})"),
        )
    return CloudAssembly(out_dir / "base"), CloudAssembly(out_dir / "head")


def run_review(args: argparse.Namespace) -> tuple[Review, str | None]:
    """The review, and the diff against deployed stacks when `--against-deployed` asks."""
    repo = worktree.repository_root(args.repo)
    context = {"envs": args.envs} if args.envs else {}
    with _assemblies_dir(args.assemblies) as out_dir:
        base, head = synthesize_both(repo, args.base, out_dir, context)
        review = review_assemblies(base, head, base_label=args.base, head_label="working tree")
        deployed = None
        if args.against_deployed:
            patterns = [f"{env}/*" for env in args.envs.split(",")] if args.envs else ["**"]
            deployed = diff_deployed(head.directory, patterns)
        return review, deployed


def _handle(args: argparse.Namespace) -> int:
    try:
        review, deployed = run_review(args)
        _write(render(review, deployed), args.output)
    except (worktree.GitError, CdkError, OSError) as error:
        print(f"sagestack review: {error}", file=sys.stderr)
        return 1
    print(f"sagestack review checked for: {checked_classes()}", file=sys.stderr)
    code = exit_code(review, args.allow_destructive)
    if code == EXIT_DESTRUCTIVE:
        print(
            f"sagestack review: {len(review.destructive)} destructive change(s) (see the "
            "report); pass --allow-destructive once they are intended",
            file=sys.stderr,
        )
    return code


def _write(report: str, output: Path | None) -> None:
    """The report to `output`, or to standard output without one."""
    if output is None:
        sys.stdout.write(report)
        return
    output.write_text(report, encoding="utf-8")
    print(f"review written to {output}", file=sys.stderr)


def exit_code(review: Review, allow_destructive: bool) -> int:
    return EXIT_DESTRUCTIVE if review.destructive and not allow_destructive else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "diff every stack of every environment against a git ref, as a markdown report"
    parser = subparsers.add_parser("review", help=summary, description=__doc__)
    parser.add_argument("--base", required=True, help="git ref to compare with, e.g. origin/main")
    parser.add_argument(
        "--output", type=Path, help="write the markdown report here (default: standard output)"
    )
    parser.add_argument(
        "--allow-destructive",
        action="store_true",
        help="exit 0 even when stateful or network resources are replaced or deleted, or "
        "stateful resources lose their retention",
    )
    parser.add_argument(
        "--envs", help="review only these environments, comma-separated (default: all)"
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        help="the project's git working tree (default: the current directory)",
    )
    parser.add_argument(
        "--assemblies",
        type=Path,
        help="keep the two synthesized assemblies in DIR/base and DIR/head "
        "(default: a temporary directory, removed afterwards)",
    )
    parser.add_argument(
        "--against-deployed",
        action="store_true",
        help="also append `cdk diff` of the working tree against the deployed stacks "
        "(needs AWS credentials for every environment's account)",
    )
    parser.set_defaults(handler=_handle)
