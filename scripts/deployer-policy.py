"""The IAM policy a deployer needs for `sam deploy`, `sam delete` and the command
line's work on a deployed stack, written to docs/deployer-policy-1.json and
-2.json: two customer managed policies, as one would pass IAM's limit of 6,144
characters a policy.

Which actions each kind of resource needs is not guessed: SAM's own translator
turns template.yaml into the CloudFormation resources it deploys, and each
resource type's provider schema (AWS's, as cfn-lint bundles them) lists the
permissions its create, read, update and delete handlers use. To that come
what SAM and CloudFormation need around it, and what the README's steps do.

  scripts/python-tools python3 scripts/deployer-policy.py           # writes the files
  scripts/python-tools python3 scripts/deployer-policy.py --check   # fails when it is out of date (make lint)
"""

import json
import os
import sys
from pathlib import Path

import cfnlint.data.schemas
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = [ROOT / "docs" / "deployer-policy-1.json", ROOT / "docs" / "deployer-policy-2.json"]
# IAM's limit on a customer managed policy, counted without white space.
POLICY_LIMIT = 6144
SCHEMAS = Path(cfnlint.data.schemas.__file__).parent

# `sam deploy` first makes a stack of its own, aws-sam-cli-managed-default, with
# the bucket its builds are uploaded to.
SAM_MANAGED_STACK = ["AWS::S3::Bucket", "AWS::S3::BucketPolicy"]

AROUND_THE_RESOURCES = [
    {
        "Sid": "DeployAndDeleteTheStacks",
        "Effect": "Allow",
        "Action": [
            "cloudformation:CreateChangeSet",
            "cloudformation:CreateStack",
            "cloudformation:DeleteChangeSet",
            "cloudformation:DeleteStack",
            "cloudformation:DescribeChangeSet",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DescribeStackResource",
            "cloudformation:DescribeStackResources",
            "cloudformation:DescribeStacks",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:GetTemplate",
            "cloudformation:GetTemplateSummary",
            "cloudformation:ListStackResources",
            "cloudformation:ValidateTemplate",
        ],
        "Resource": "*",
    },
    {
        "Sid": "SamsBuildArtifacts",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging"],
        "Resource": ["arn:aws:s3:::aws-sam-cli-managed-default-*", "arn:aws:s3:::aws-sam-cli-managed-default-*/*"],
    },
    {
        "Sid": "TheAuthTokenAndApiKeyInSsm",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:PutParameter", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    },
    {
        "Sid": "TheCommandLineOnTheTables",
        "Effect": "Allow",
        "Action": [
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:TransactWriteItems",
            "dynamodb:UpdateItem",
        ],
        "Resource": "*",
    },
]


def deployed_resource_types():
    """The CloudFormation resource types template.yaml becomes, as SAM translates it."""
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # The translator wants an S3 location where `sam build` gives a folder.
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translated = transform(template, {}, NoManagedPolicies())
    return sorted({r["Type"] for r in translated["Resources"].values()} | set(SAM_MANAGED_STACK))


def handler_permissions(resource_type):
    """What the type's create, read, update and delete handlers need, from its provider schema."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    schema = json.loads((SCHEMAS / "resources" / f"{index[resource_type]}.json").read_text())
    handlers = schema.get("handlers", {})
    missing = [h for h in ("create", "delete") if h not in handlers]
    if missing:
        sys.exit(f"{resource_type}: its schema lists no {' or '.join(missing)} handler")
    return {p for h in ("create", "read", "update", "delete") for p in handlers.get(h, {}).get("permissions", [])}


def size(statements):
    return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))


def policies():
    """The policy documents, each within IAM's limit, and the resource types they serve."""
    types = deployed_resource_types()
    actions = sorted(set().union(*(handler_permissions(t) for t in types)))
    # The resources' actions fill the first policy; the rest, and what is around them, go in the second.
    statement = lambda sid, listed: {"Sid": sid, "Effect": "Allow", "Action": listed, "Resource": "*"}
    first = []
    while actions and size([statement("TheStacksResources", first + actions[:1])]) <= POLICY_LIMIT:
        first.append(actions.pop(0))
    second = ([statement("TheStacksResourcesContinued", actions)] if actions else []) + AROUND_THE_RESOURCES
    documents = [[statement("TheStacksResources", first)], second]
    for statements in documents:
        if size(statements) > POLICY_LIMIT:
            sys.exit(f"a policy of {size(statements)} characters is over IAM's limit of {POLICY_LIMIT}: split it in three")
    return [{"Version": "2012-10-17", "Statement": statements} for statements in documents], types


def main():
    documents, types = policies()
    texts = [json.dumps(document, indent=2) + "\n" for document in documents]
    shown = " and ".join(str(path.relative_to(ROOT)) for path in OUTPUTS)
    if "--check" in sys.argv[1:]:
        if any(not path.exists() or path.read_text() != text for path, text in zip(OUTPUTS, texts)):
            sys.exit(
                f"{shown} are out of date with template.yaml: "
                "run `scripts/python-tools python3 scripts/deployer-policy.py` and commit them"
            )
        print(f"{shown}: up to date ({len(types)} resource types)")
        return
    for path, text, document in zip(OUTPUTS, texts, documents):
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}: {size(document['Statement'])} characters without spaces")
    print(f"for {len(types)} resource types: {', '.join(types)}")


if __name__ == "__main__":
    main()
