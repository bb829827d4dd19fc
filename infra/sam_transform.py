"""Run AWS's SAM transform on a packaged template, as CloudFormation does at deploy time:
`.venv-sam/bin/python infra/sam_transform.py < sam.json > cloudformation.json`.

It runs in its own virtualenv (`make setup` makes `.venv-sam` from requirements-sam.txt) because
aws-sam-translator pins an older pydantic than the app's. Standard library and samtranslator only.
The functions' local CodeUri is first replaced by an S3 URI, which is what `aws cloudformation
package` does before a deploy (the transform refuses anything else).
"""

from __future__ import annotations

import json
import os
import sys

from samtranslator.translator.transform import transform

ARTIFACT = "s3://sitegen-artifacts/sitegen/deployment.zip"  # any bucket/key: only its form is checked


class NoManagedPolicies:
    """The functions name their own roles, so no AWS managed policy is ever looked up."""

    def load(self) -> dict[str, str]:
        return {}


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the transform fills ${AWS::Region} for ARNs
    template = json.load(sys.stdin)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = ARTIFACT
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
