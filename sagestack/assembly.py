"""The one reader of a synthesized cloud assembly (`cdk synth --output`): stacks, templates,
environments, file assets and the compliance findings the app acknowledged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ground.naming import model_of_stack_id

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
TOP_LEVEL = "app"
UNKNOWN = "unknown-account"


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def environment_of(display_name: str) -> str:
    """The stage a stack belongs to (`dev/data` → `dev`); stacks outside any stage: `app`."""
    return display_name.rsplit("/", 1)[0] if "/" in display_name else TOP_LEVEL


@dataclass(frozen=True)
class FileAsset:
    """A file asset of a stack: its local file and where `cdk deploy` publishes it."""

    path: Path
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class StackTemplate:
    """One stack: `dev/data` is environment `dev`, name `data`, stack `sagestack-dev-data`."""

    display_name: str
    stack_name: str
    template_path: Path
    account: str = UNKNOWN
    region: str = UNKNOWN
    asset_manifests: tuple[Path, ...] = field(default=())

    @property
    def environment(self) -> str:
        return environment_of(self.display_name)

    @property
    def name(self) -> str:
        return self.display_name.rsplit("/", 1)[-1]

    @property
    def model(self) -> str | None:
        """The model whose stack this is; None for an environment's shared stacks."""
        return model_of_stack_id(self.name)

    def template(self) -> dict:
        return _read_json(self.template_path)

    def file_assets(self) -> list[FileAsset]:
        """The stack's file assets (not zipped directories), with their destinations."""
        found = []
        for manifest_path in self.asset_manifests:
            manifest = _read_json(manifest_path)
            for asset in manifest.get("files", {}).values():
                if asset["source"].get("packaging") != "file":
                    continue
                local = (manifest_path.parent / asset["source"]["path"]).resolve()
                for destination in asset["destinations"].values():
                    found.append(
                        FileAsset(local, destination["bucketName"], destination["objectKey"])
                    )
        return found


@dataclass(frozen=True)
class Acknowledgment:
    """A compliance finding accepted on one construct, as the validation report records it."""

    rule: str
    construct_path: str
    reason: str

    @property
    def environment(self) -> str:
        return self.construct_path.split("/", 1)[0]


def _environment(artifact: dict) -> tuple[str, str]:
    """(account, region) of `aws://account/region`."""
    target = artifact.get("environment", "").removeprefix("aws://")
    account, _, region = target.partition("/")
    return account or UNKNOWN, region or UNKNOWN


def _asset_manifests(directory: Path, properties: dict) -> tuple[Path, ...]:
    manifests = (
        directory / f"{dependency.removesuffix('.assets')}.assets.json"
        for dependency in properties.get("additionalDependencies", [])
    )
    return tuple(path for path in manifests if path.is_file())


@dataclass(frozen=True)
class CloudAssembly:
    """A `cdk synth --output` directory, with stages as nested assemblies."""

    directory: Path

    @cached_property
    def stacks(self) -> dict[str, StackTemplate]:
        """Every stack of the assembly and its nested assemblies, by display name."""
        found: dict[str, StackTemplate] = {}
        self._collect(self.directory, found)
        return dict(sorted(found.items()))

    def _collect(self, directory: Path, found: dict[str, StackTemplate]) -> None:
        manifest = _read_json(directory / "manifest.json")
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            properties = artifact.get("properties", {})
            if artifact["type"] == NESTED_ASSEMBLY:
                self._collect(directory / properties["directoryName"], found)
            elif artifact["type"] == STACK_ARTIFACT:
                display = artifact.get("displayName", artifact_id)
                account, region = _environment(artifact)
                found[display] = StackTemplate(
                    display_name=display,
                    stack_name=properties.get("stackName", artifact_id),
                    template_path=directory / properties["templateFile"],
                    account=account,
                    region=region,
                    asset_manifests=_asset_manifests(directory, properties),
                )

    @property
    def environments(self) -> list[str]:
        return sorted({stack.environment for stack in self.stacks.values()})

    def environment_stacks(self, environment: str) -> dict[str, StackTemplate]:
        """The stacks of one stage, by stack name."""
        return {
            stack.stack_name: stack
            for stack in self.stacks.values()
            if stack.environment == environment
        }

    def acknowledgments(self) -> set[Acknowledgment]:
        """Findings the compliance packs raised and the code acknowledged, with reasons."""
        report_path = self.directory / "validation-report.json"
        if not report_path.exists():
            return set()
        found = set()
        for plugin in _read_json(report_path).get("pluginReports", []):
            for violation in plugin.get("suppressedViolations", []):
                for construct in violation.get("violatingConstructs", []):
                    found.add(
                        Acknowledgment(
                            rule=violation["ruleName"],
                            construct_path=construct["constructPath"],
                            reason=violation.get("reason", ""),
                        )
                    )
        return found
