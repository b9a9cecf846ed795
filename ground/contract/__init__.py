"""As strict as AWS, offline: every SageMaker request the platform builds, checked first.

Two sources of truth, both shipped offline: botocore's service models (shapes, enums, lengths,
ranges and the regex patterns its own validator skips) and a table of the developer guide's
documented limits that no shape expresses (`limits.py`, each with its page). Pipeline
definitions are checked step by step against the operation each step type calls
(`pipeline.py`), CloudFormation resources against the operation CloudFormation calls
(`templates.py`).
"""
