"""IAM policies linted as AWS would read them: parliament, with IAM's own grammar of policy variables.

parliament 1.6 takes a policy variable out of an ARN only when the variable's name is word characters and
slashes, but IAM allows tag keys with hyphens and colons (``${aws:PrincipalTag/hello-winners:stage}``), so
such an ARN would be misread as naming a resource of the wrong type. Here its rule reads a variable as
IAM does: anything between ``${`` and ``}``. Every other check is parliament's own.
"""

from __future__ import annotations

import json
import re

import parliament


def _without_variables(arn: str, replace_with: str = "") -> str:
    return re.sub(r"\$\{[^}]*\}", replace_with, arn)


parliament.strip_var_from_arn = _without_variables


def findings(document: dict) -> list[str]:
    """Every finding of parliament's auditors on ``document``, one line each (an empty list: clean)."""
    policy = parliament.analyze_policy_string(json.dumps(document))
    return [f"{finding.issue}: {finding.detail}" for finding in policy.findings]
