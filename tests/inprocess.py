"""Synthesizing in this process, for tests of one construct or one stack: seconds, not a CLI run.

The App gets cdk.json's feature flags, as the CLI would pass them, so constructs behave as in
the real app; `compliant_stack` attaches the four compliance packs to a bare stack.
"""

from __future__ import annotations

import json
from functools import cache

from aws_cdk import App, Environment, Stack

from ml_constructs.compliance import attach_compliance_packs
from tests.synth import ROOT

ENVIRONMENT = Environment(account="123456789012", region="eu-west-1")


@cache
def feature_flags() -> dict:
    return json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def app(outdir: str) -> App:
    """An App with cdk.json's context, writing its assembly to `outdir`."""
    return App(outdir=outdir, context=dict(feature_flags()))


def compliant_stack(outdir: str, name: str = "test") -> tuple[App, Stack]:
    """A bare stack in the test account, under the four compliance packs."""
    application = app(outdir)
    attach_compliance_packs(application)
    return application, Stack(application, name, env=ENVIRONMENT)
