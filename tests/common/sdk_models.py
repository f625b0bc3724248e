"""Writes tests/common/sdk_models.json: the request structures of the SCF and CAM actions
`mps-cos-backup deploy` sends, field by field with their types, read from the official
Python SDK's models (tencentcloud-sdk-python-scf / -cam, installed in a scratch virtualenv;
never a dependency of the project). The fake Cloud API checks every request against it.

    python3 tests/common/sdk_models.py /path/to/site-packages/tencentcloud > tests/common/sdk_models.json
"""
import json
import re
import sys

ROOT = sys.argv[1]
WANTED = {
    "scf/v20180416": [
        "GetFunction", "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
        "UpdateFunctionEventInvokeConfig", "ListTriggers", "CreateTrigger", "UpdateTrigger",
    ],
    "cam/v20190116": [
        "GetRole", "CreateRole", "CreatePolicy", "AttachRolePolicy", "GetUserAppId",
        "ListAttachedRolePolicies", "GetPolicy", "UpdatePolicy", "ListPolicies",
    ],
}


def fields(src, cls):
    m = re.search(r"^class %s\(AbstractModel\):\n(.*?)(?=^class |\Z)" % cls, src, re.S | re.M)
    if not m:
        raise SystemExit("no class %s" % cls)
    init = m.group(1).split('"""', 4)[3] if m.group(1).count('"""') >= 4 else ""
    out = {}
    for name, t in re.findall(r":type (\w+): (.+)", init):
        t = t.strip()
        lst = t.startswith("list of ")
        base = t[len("list of "):] if lst else t
        base = re.sub(r":class:`[\w.]+\.(\w+)`", r"\1", base)
        out[name] = ("list:" if lst else "") + base
    return out


models = {}
for path, actions in WANTED.items():
    with open("%s/%s/models.py" % (ROOT, path), encoding="utf-8") as f:
        src = f.read()
    todo = [a + "Request" for a in actions]
    structs = {}
    while todo:
        c = todo.pop()
        if c in structs:
            continue
        structs[c] = fields(src, c)
        for t in structs[c].values():
            base = t.split(":", 1)[-1]
            if base not in ("str", "int", "bool", "float") and base not in structs:
                todo.append(base)
    models[path.split("/")[0]] = dict(sorted(structs.items()))
print(json.dumps(models, indent=1, sort_keys=True))
