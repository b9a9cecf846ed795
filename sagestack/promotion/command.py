"""`sagestack promote --to ENV [--model NAME]`: move a model one environment up, through a
reviewed pin.

Finds the candidate (what the previous environment pins, or `--version N` of its registry),
checks that it is Approved, that its recorded metrics meet the target's gate, that it carries
the data-quality baseline the target's Model Monitor needs and that the previous environment's
endpoint serves it, then rewrites only `environments.<ENV>.serving.model` in
`config/models/<NAME>.yaml` (the package ARN and its baseline folder) and prints the `cdk diff`
that change causes. Commit the file and open a pull request: deploying is the delivery
pipeline's job. `--model` may be left out when the target hosts one model.

Exit status: 0 promoted (or already pinned), 1 refused or failed.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

from ground.config import ConfigError, ModelDeployment, load_environments
from ground.config.loader import CONFIG_DIR, environment_names
from sagestack.cdk_cli import CdkError
from sagestack.local import emulator
from sagestack.promotion.aws import AwsTarget
from sagestack.promotion.candidate import Candidate, PromotionError, find_candidate
from sagestack.promotion.checks import Outcome, run_checks
from sagestack.promotion.pin import PinError, pin_path, rewrite_pin
from sagestack.promotion.preview import check_config, config_with, preview_pin


def _deployments(
    config_dir: Path, target: str, model: str | None
) -> tuple[ModelDeployment, ModelDeployment]:
    """The model in the previous environment and in the target, in promotion order."""
    names = environment_names(config_dir)
    if target not in names:
        raise PromotionError(
            f"--to {target}: {config_dir} declares no environment {target} "
            f"(environments: {', '.join(names)})"
        )
    index = names.index(target)
    if index == 0:
        raise PromotionError(
            f"--to {target}: {target} is the first environment; models enter it from its own "
            "training pipeline, not by promotion"
        )
    before, after = load_environments(
        [names[index - 1], target], config_dir, replacing_pins=[target]
    )
    hosted = [d.name for d in after.models]
    if model is None:
        if len(hosted) != 1:
            raise PromotionError(
                f"--model: {target} hosts {len(hosted)} models ({', '.join(hosted) or 'none'}); "
                "name the one to promote"
            )
        model = hosted[0]
    for environment in (before, after):
        if model not in {d.name for d in environment.models}:
            raise PromotionError(
                f"--model {model}: {environment.name} does not host it; list {environment.name} "
                f"under environments in config/models/{model}.yaml first"
            )
    return before.model(model), after.model(model)


def _aws_target(args: argparse.Namespace) -> AwsTarget:
    if not args.emulator:
        return AwsTarget()
    running = emulator.current(args.state_dir)
    if running is None:
        raise PromotionError(
            f"--emulator: no emulator is running (none recorded in {args.state_dir}); "
            "start it with `sagestack local up`"
        )
    return AwsTarget(running)


def _print_preview(
    config_dir: Path, new_config: Path, target: ModelDeployment, diff_file: Path | None
) -> None:
    """The cdk diff and its risks, printed, or written to `diff_file` and summed up."""
    review = preview_pin(config_dir, new_config, target.environment.name)
    where = f"{target.environment.name} ({target.name})"
    changed = [stack for stack in review.stacks if stack.diff.status != "unchanged"]
    lines = [f"cdk diff of {where} (offline, current pin → new pin):"]
    lines += [stack.cdk_diff + "\n" for stack in changed] or ["  no template changes"]
    lines += [
        f"  risk: {risk.category.value}: {risk.location}: {risk.detail}" for risk in review.risks
    ]
    if diff_file is None:
        print("\n" + "\n".join(lines))
        return
    diff_file.parent.mkdir(parents=True, exist_ok=True)
    diff_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"cdk diff of {where}: {len(changed)} stack(s) change, {len(review.risks)} risk(s) "
        f"for the reviewer; written to {diff_file}"
    )


def promote(args: argparse.Namespace) -> int:
    config_dir: Path = args.config_dir
    previous, target = _deployments(config_dir, args.to, args.model)
    target_file = target.model_file
    aws = _aws_target(args)
    candidate: Candidate = find_candidate(previous, args.version, aws)
    print(f"candidate: {candidate.arn} ({candidate.chosen_because}), read from {aws.label}")
    current = target.serving.model
    if current is not None and (current.arn, current.baseline_uri) == (
        candidate.arn,
        candidate.baseline_uri,
    ):
        print(f"{target.pin_field('model')} already pins it, with its baseline; nothing to do")
        return 0
    results = run_checks(candidate, previous, target, aws)
    for result in results:
        print(result.line())
    failed = [result.gate for result in results if result.outcome is Outcome.FAILED]
    if failed:
        print(f"refused: {', '.join(failed)} check(s) failed; {target_file} is unchanged")
        return 1
    old_text = target_file.read_text(encoding="utf-8")
    new_text = rewrite_pin(
        old_text,
        pin_path(target.environment.name),
        candidate.arn,
        str(target_file),
        candidate.baseline_uri,
    )
    print(
        "".join(
            difflib.unified_diff(
                old_text.splitlines(keepends=True),
                new_text.splitlines(keepends=True),
                fromfile=str(target_file),
                tofile=str(target_file),
            )
        ),
        end="",
    )
    with config_with(config_dir, target_file, new_text) as new_config:
        check_config(config_dir, new_config, target.environment.name)
        if not args.no_diff:
            _print_preview(config_dir, new_config, target, args.diff_file)
    if args.dry_run:
        print(f"dry run: {target_file} is unchanged")
        return 0
    target_file.write_text(new_text, encoding="utf-8")
    print(f"{target_file} now pins {candidate.arn}; commit it and open a pull request")
    return 0


def _handle(args: argparse.Namespace) -> int:
    try:
        return promote(args)
    except (PromotionError, ConfigError, PinError, emulator.EmulatorError) as error:
        print(f"refused: {error}")
    except CdkError as error:
        print(f"refused: the new pin does not synthesize, so nothing was written:\n{error}")
    return 1


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "promote a model to the next environment by rewriting its pin"
    parser = subparsers.add_parser(
        "promote",
        help=summary,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--to", required=True, metavar="ENV", help="environment to promote into")
    parser.add_argument(
        "--model", metavar="NAME", help="the model to promote (needed when ENV hosts several)"
    )
    parser.add_argument(
        "--version",
        type=int,
        help="promote this version of the previous environment's registry "
        "group instead of what the previous environment pins",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=CONFIG_DIR,
        help="the config folder: platform.yaml, environments, models/ (default: config/)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and show the change, write nothing"
    )
    parser.add_argument(
        "--no-diff",
        action="store_true",
        help="skip the cdk diff preview (it synthesizes the target environment twice)",
    )
    parser.add_argument(
        "--diff-file",
        type=Path,
        metavar="FILE",
        help="write the cdk diff and its risks to FILE and print a one-line summary",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="read the registry and endpoints from the running embedded emulator, not AWS",
    )
    emulator.add_state_dir_argument(parser)
    parser.set_defaults(handler=_handle)
