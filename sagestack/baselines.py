"""Committed template baselines: every template change shows up in a pull request's file diff.

`tests/baselines/<env>/<stack>.template.json` holds each synthesized template, normalized so
that only reviewable content remains:

- asset hashes (64 hex digits: Lambda code keys, file and image asset names) → `<asset-hash>`;
  the code itself is reviewed as code, and a rebuilt asset would churn every baseline;
- each SageMaker pipeline's definition, a single JSON string in the template, is expanded
  into indented JSON with CloudFormation references shown as `${Ref:X}`, `${GetAtt:X.Y}` or
  `${Output:Stack.Output}`, so a changed step shows as a changed line, not a changed string;
- the CDK bootstrap version check (`Parameters.BootstrapVersion`, `Rules.CheckBootstrapVersion`)
  and the `AWS::CDK::Metadata` analytics resource are dropped: they follow the CDK version,
  not the platform.

`sagestack baselines refresh` (or `make baselines`) rewrites them; `sagestack baselines check`
and tests/test_baselines.py fail when a fresh synth differs. `--model NAME` limits either to
one model's stacks (`<env>/<model>-training|serving|monitoring`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ground.naming import model_of_stack_id
from sagestack.assembly import CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT, CdkError, SynthJob, synth_all
from sagestack.review.assets import without_asset_hashes

BASELINE_DIR = PROJECT_ROOT / "tests" / "baselines"
REFRESH_COMMAND = "make baselines"
DROPPED = {"Parameters": "BootstrapVersion", "Rules": "CheckBootstrapVersion"}
DROPPED_TYPES = frozenset({"AWS::CDK::Metadata"})


def _placeholder(token: dict) -> str:
    """A readable stand-in for a CloudFormation intrinsic inside a JSON string."""
    ((name, argument),) = token.items()
    if name == "Ref":
        return f"${{Ref:{argument}}}"
    if name == "Fn::GetAtt":
        return f"${{GetAtt:{'.'.join(argument)}}}"
    if name == "Fn::GetStackOutput":
        return f"${{Output:{argument['StackName']}.{argument['OutputName']}}}"
    return f"${{{name}}}"


def _expanded_definition(body: object) -> object:
    """The pipeline definition body as JSON, or the body unchanged when it is not one."""
    if isinstance(body, dict) and "Fn::Join" in body:
        separator, parts = body["Fn::Join"]
        body = separator.join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    if not isinstance(body, str):
        return body
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body


def normalize(template: dict) -> dict:
    """The template without what changes on every CDK upgrade or asset rebuild."""
    result = without_asset_hashes(template)
    for resource in result.get("Resources", {}).values():
        if resource["Type"] == "AWS::SageMaker::Pipeline":
            definition = resource["Properties"].get("PipelineDefinition", {})
            if "PipelineDefinitionBody" in definition:
                definition["PipelineDefinitionBody"] = _expanded_definition(
                    definition["PipelineDefinitionBody"]
                )
    for section, name in DROPPED.items():
        result.get(section, {}).pop(name, None)
        if section in result and not result[section]:
            del result[section]
    resources = result.get("Resources", {})
    for logical_id in [key for key, value in resources.items() if value["Type"] in DROPPED_TYPES]:
        del resources[logical_id]
    return result


def render(template: dict) -> str:
    return json.dumps(normalize(template), indent=2, ensure_ascii=False) + "\n"


TEMPLATE_SUFFIX = ".template.json"


def _selected(relative: Path, model: str | None) -> bool:
    """Is the baseline at `relative` one of `model`'s stacks (any stack when None)?"""
    return model is None or model_of_stack_id(relative.name.removesuffix(TEMPLATE_SUFFIX)) == model


def expected_files(assembly: CloudAssembly, model: str | None = None) -> dict[Path, str]:
    """Relative baseline path → normalized content, for every stack of the assembly (of
    `model`, when given)."""
    expected = {
        Path(stack.environment) / f"{stack.name}{TEMPLATE_SUFFIX}": stack
        for stack in assembly.stacks.values()
    }
    return {
        relative: render(stack.template())
        for relative, stack in expected.items()
        if _selected(relative, model)
    }


def _existing(directory: Path, model: str | None = None) -> set[Path]:
    found = (path.relative_to(directory) for path in directory.glob(f"*/*{TEMPLATE_SUFFIX}"))
    return {relative for relative in found if _selected(relative, model)}


def refresh(
    assembly: CloudAssembly, directory: Path = BASELINE_DIR, model: str | None = None
) -> list[Path]:
    """Rewrite the baselines from `assembly`, removing those of stacks that no longer exist."""
    expected = expected_files(assembly, model)
    for relative in _existing(directory, model) - expected.keys():
        (directory / relative).unlink()
    for relative, content in expected.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return sorted(expected)


def drift(
    assembly: CloudAssembly, directory: Path = BASELINE_DIR, model: str | None = None
) -> list[str]:
    """One line per baseline that differs from `assembly`, is missing, or is left over."""
    expected = expected_files(assembly, model)
    problems = [
        f"{relative}: no stack any more"
        for relative in _existing(directory, model) - expected.keys()
    ]
    for relative, content in sorted(expected.items()):
        path = directory / relative
        if not path.exists():
            problems.append(f"{relative}: new stack, no baseline yet")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{relative}: template differs from the baseline")
    return sorted(problems)


def _assembly(args: argparse.Namespace, scratch: Path) -> CloudAssembly:
    if args.assembly is not None:
        return CloudAssembly(args.assembly)
    synth_all(SynthJob(PROJECT_ROOT, scratch / "cdk.out", {}, "the working tree"))
    return CloudAssembly(scratch / "cdk.out")


def _handle(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="sagestack-baselines-") as scratch:
        try:
            assembly = _assembly(args, Path(scratch))
        except CdkError as error:
            print(f"sagestack baselines: {error}", file=sys.stderr)
            return 1
        if args.model is not None and not expected_files(assembly, args.model):
            models = sorted({s.model for s in assembly.stacks.values() if s.model is not None})
            print(
                f"sagestack baselines: --model {args.model}: no stack of that model "
                f"(models: {', '.join(models) or 'none'})",
                file=sys.stderr,
            )
            return 1
        if args.action == "refresh":
            written = refresh(assembly, args.directory, args.model)
            print(f"{len(written)} baselines written to {args.directory}; commit them")
            return 0
        problems = drift(assembly, args.directory, args.model)
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"templates drifted from {args.directory}: review, then run `{REFRESH_COMMAND}`")
        return 1
    print("templates match their baselines")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "refresh or check the committed template baselines (tests/baselines/)"
    parser = subparsers.add_parser("baselines", help=summary, description=__doc__)
    parser.add_argument("action", choices=("refresh", "check"))
    parser.add_argument(
        "--assembly",
        type=Path,
        help="use this synthesized assembly (default: synthesize every environment now)",
    )
    parser.add_argument(
        "--model", metavar="NAME", help="only this model's stacks (default: every stack)"
    )
    parser.add_argument(
        "--directory",
        type=Path,
        default=BASELINE_DIR,
        help="baselines folder (default: %(default)s)",
    )
    parser.set_defaults(handler=_handle)
