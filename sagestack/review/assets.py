"""Asset hashes: content addresses that change with every rebuilt asset, not with intent.

A new asset version replaces `…/<hash-a>.zip` by `…/<hash-b>.zip` in templates and grants;
both the baselines and the IAM comparison look through that to what a reviewer must see.
"""

from __future__ import annotations

import re
from typing import Any

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
ASSET_PLACEHOLDER = "<asset-hash>"


def without_asset_hashes(value: Any) -> Any:
    """`value` (any JSON) with every 64-hex-digit asset hash replaced by a placeholder."""
    if isinstance(value, str):
        return ASSET_HASH.sub(ASSET_PLACEHOLDER, value)
    if isinstance(value, list):
        return [without_asset_hashes(item) for item in value]
    if isinstance(value, dict):
        return {
            without_asset_hashes(key): without_asset_hashes(item) for key, item in value.items()
        }
    return value
