"""Read ``template.yaml`` with plain PyYAML: CloudFormation short tags (``!Ref``, ``!Sub``...) become
their long forms (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), so scripts and tests read the same names
the deployment uses instead of retyping them."""

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_TemplateLoader)


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource for every resource of CloudFormation type ``kind``."""
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def bucket_names(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> bucket name of each S3 bucket named by a parameter (its default). The access-log bucket,
    named by CloudFormation, has no parameter and is not emulated locally."""
    names = {}
    for logical_id, bucket in resources_of_type(template, "AWS::S3::Bucket").items():
        if "BucketName" not in bucket["Properties"]:
            continue
        parameter = bucket["Properties"]["BucketName"]["Ref"]
        names[logical_id] = template["Parameters"][parameter]["Default"]
    return names
