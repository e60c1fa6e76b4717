"""Print template.yaml as CloudFormation sees it after the SAM transform, as JSON.

Run by the interpreter of the installed SAM CLI (which carries samtranslator, a package the
project does not depend on): `<sam python> sam_translate.py template.yaml`. Local CodeUri and
ContentUri paths are swapped for S3 URIs as `sam validate` does; managed policies are never
looked up (the template names none), so this needs no AWS account or network.
"""

import json
import sys
from pathlib import Path

from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _NoManagedPolicyLookups:
    def load(self) -> dict[str, str]:
        raise RuntimeError("the template must not need managed policy look-ups")


def main(path: str) -> int:
    template = yaml_parse(Path(path).read_text(encoding="utf-8"))
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = "s3://artifacts/" + properties[key]
    try:
        translated = transform(template, {}, _NoManagedPolicyLookups())
    except InvalidDocumentException as exc:
        sys.stderr.write("; ".join(str(cause) for cause in exc.causes) + "\n")
        return 1
    sys.stdout.write(json.dumps(translated, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
