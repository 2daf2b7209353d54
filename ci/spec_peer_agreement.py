#!/usr/bin/env python3
"""Agreement with a peer: `orchestrator-pact check-spec` beside PactFlow's
swagger-mock-validator, on the project's pacts and on copies broken on
purpose. Called by ci/spec-peer-agreement.sh, which installs the peer and
builds the binary.

Both tools get the same document: only the user operations (`/api/User...`)
of the spec, since the full UiPath document has an unrelated operation (a
binary download) whose schema swagger-mock-validator refuses to parse.
swagger-mock-validator ignores OpenAPI 3's `servers`, so its copy has the
Identity prefix (`/identity_`) put in front of each path; check-spec strips
the prefix from the pacts' paths instead.

swagger-mock-validator 14 reads Pact V4 files itself (its docs: "Pact v1, v2,
v3 and v4 specifications are supported"; only Synchronous/HTTP interactions
are validated), so the V4 pacts are given to it as they are.

A case agrees when both say compatible or both say incompatible. Where
swagger-mock-validator says incompatible and check-spec says compatible, the
difference is explained only when every error of the peer is, on the same
interaction, a finding check-spec also made and excused through
spec-divergences.toml. Anything else fails. A case broken on purpose must
also be incompatible for check-spec.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

SUCCESS = "a request to change the password with the correct old password"
WRONG_OLD = "a request to change the password with a wrong old password"
USER = "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b"

# swagger-mock-validator's error codes, and the check-spec checks that find
# the same thing.
PEER_TO_CHECKS = {
    "request.path-or-method.unknown": {"path.prefix", "path.unknown", "method.unknown", "path.parameter"},
    "request.body.incompatible": {"request.body"},
    "request.body.unknown": {"request.body"},
    "request.content-type.incompatible": {"request.content-type"},
    "request.authorization.missing": {"security"},
    "request.header.incompatible": {"header.parameter"},
    "request.query.incompatible": {"query.parameter"},
    "response.status.unknown": {"response.status"},
    "response.body.incompatible": {"response.body"},
    "response.body.unknown": {"response.body"},
    "response.content-type.incompatible": {"response.content-type"},
}


def load_spec(path, js_yaml):
    if path.endswith((".yaml", ".yml")):
        text = subprocess.run([js_yaml, path], check=True, capture_output=True, text=True).stdout
        return json.loads(text)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def user_operations(doc):
    doc = copy.deepcopy(doc)
    doc["paths"] = {p: item for p, item in doc["paths"].items() if p.startswith("/api/User")}
    if not doc["paths"]:
        sys.exit("the spec has no /api/User operations")
    return doc


def with_prefix(doc, prefix):
    """The peer's copy: OpenAPI 3 paths with the Identity prefix in front
    (it ignores `servers`); Swagger 2 keeps `basePath`, which it honours."""
    if "openapi" not in doc:
        return doc
    doc = copy.deepcopy(doc)
    doc["paths"] = {f"/{prefix}{p}": item for p, item in doc["paths"].items()}
    doc.pop("servers", None)
    return doc


def only(pact, description, change=None):
    pact = copy.deepcopy(pact)
    pact["interactions"] = [i for i in pact["interactions"] if i["description"] == description]
    assert len(pact["interactions"]) == 1, description
    if change:
        change(pact["interactions"][0])
    return pact


def cases(pact):
    """(name, pact, broken on purpose)."""
    out = [(f"pacts/ as committed ({len(pact['interactions'])} interactions)", pact, False)]
    for i in pact["interactions"]:
        short = i["description"].removeprefix("a request to change the password ")
        out.append((f"as recorded: {short}", only(pact, i["description"]), False))

    def path(value):
        def change(i):
            i["request"]["path"] = value
        return change

    def response_field(name, value):
        def change(i):
            i["response"]["body"]["content"][name] = value
        return change

    def status(value):
        def change(i):
            i["response"]["status"] = value
        return change

    def request_field(name, value):
        def change(i):
            i["request"]["body"]["content"][name] = value
        return change

    def no_token(i):
        del i["request"]["headers"]["Authorization"]

    broken = [
        ("broken: a wrong path (/api/Users/...)", SUCCESS, path(f"/identity_/api/Users/{USER}/changepassword")),
        ("broken: a string where the spec says boolean", SUCCESS, response_field("succeeded", "true")),
        ("broken: an undeclared status (201)", SUCCESS, status(201)),
        ("broken: an undeclared status (409) for a refusal", WRONG_OLD, status(409)),
        ("broken: a user id that is not a UUID", SUCCESS, path("/identity_/api/User/har-3107/changepassword")),
        ("broken: a number where the spec says string", SUCCESS, request_field("oldPassword", 12345678)),
        ("broken: a response property never promised", SUCCESS, response_field("userName", "someone")),
        ("broken: no token on a call that expects 200", SUCCESS, no_token),
    ]
    for name, description, change in broken:
        out.append((name, only(pact, description, change), True))
    return out


def run_peer(args, spec, mock):
    cli = os.path.join(args.peer, "node_modules", ".bin", "swagger-mock-validator")
    code = subprocess.run([cli, spec, mock], capture_output=True, text=True).returncode
    if code not in (0, 1):
        sys.exit(f"swagger-mock-validator could not check {mock} (exit {code})")
    report = subprocess.run(
        ["node", args.peer_report, args.peer, spec, mock], check=True, capture_output=True, text=True
    ).stdout
    report = json.loads(report)
    if report["success"] != (code == 0):
        sys.exit(f"swagger-mock-validator's CLI (exit {code}) and its API ({report['success']}) disagree on {mock}")
    return report


def run_check_spec(args, spec, mock, workdir):
    out = os.path.join(workdir, "check-spec.json")
    if os.path.exists(out):
        os.remove(out)
    proc = subprocess.run(
        [args.orchestrator_pact, "check-spec", "--spec", spec, "--pacts", mock, "--json", out],
        capture_output=True,
        text=True,
        env={**os.environ, "PACT_DO_NOT_TRACK": "true"},
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"check-spec could not check {mock} (exit {proc.returncode}):\n{proc.stderr}")
    with open(out, encoding="utf-8") as f:
        return proc.returncode, json.load(f)


def explain(peer, report):
    """The divergence ids that explain every error of the peer, or None."""
    ids = set()
    for error in peer["errors"]:
        checks = PEER_TO_CHECKS.get(error["code"], set())
        interaction = next(
            (i for i in report["interactions"] if i["description"] == error["interaction"]), None
        )
        if interaction is None:
            return None
        excused = [
            f for f in interaction["findings"] if f["excused_by"] and f["check"] in checks
        ]
        if not excused:
            return None
        ids.update(f["excused_by"] for f in excused)
    return sorted(ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="the OpenAPI document (YAML or JSON)")
    parser.add_argument("--pact", required=True, help="the committed pact file")
    parser.add_argument("--peer", required=True, help="where swagger-mock-validator is installed")
    parser.add_argument("--peer-report", required=True, help="ci/swagger-mock-validator-report.mjs")
    parser.add_argument("--orchestrator-pact", required=True, help="the orchestrator-pact binary")
    parser.add_argument("--identity-prefix", default="identity_")
    args = parser.parse_args()

    js_yaml = os.path.join(args.peer, "node_modules", ".bin", "js-yaml")
    users = user_operations(load_spec(args.spec, js_yaml))
    with open(args.pact, encoding="utf-8") as f:
        pact = json.load(f)

    with tempfile.TemporaryDirectory(prefix="spec-peer-") as work:
        ours = os.path.join(work, "users.json")
        theirs = os.path.join(work, "users-for-swagger-mock-validator.json")
        with open(ours, "w", encoding="utf-8") as f:
            json.dump(users, f)
        with open(theirs, "w", encoding="utf-8") as f:
            json.dump(with_prefix(users, args.identity_prefix), f)
        print(f"spec: the {len(users['paths'])} user paths of {args.spec}")

        rows = []
        failures = []
        for n, (name, case_pact, broken) in enumerate(cases(pact)):
            mock = os.path.join(work, f"case-{n}.json")
            with open(mock, "w", encoding="utf-8") as f:
                json.dump(case_pact, f)
            peer = run_peer(args, theirs, mock)
            code, report = run_check_spec(args, ours, mock, work)
            peer_ok = peer["success"]
            ours_ok = code == 0
            warnings = sum(
                1 for i in report["interactions"] for f in i["findings"] if f["excused_by"]
            )
            errors = len(peer["errors"])
            peer_text = "compatible" if peer_ok else f"incompatible ({errors} error{'s' * (errors != 1)})"
            ours_text = "compatible" if ours_ok else "incompatible"
            if ours_ok and warnings:
                ours_text += f" ({warnings} warning{'s' * (warnings != 1)})"
            if peer_ok == ours_ok:
                verdict = "agree"
            elif not peer_ok and ours_ok and (ids := explain(peer, report)) is not None:
                verdict = "explained: " + ", ".join(ids)
            else:
                verdict = "DISAGREE"
                failures.append(f"{name}: swagger-mock-validator {peer_text}, check-spec {ours_text}; peer errors: "
                                + "; ".join(f"{e['code']} ({e['interaction']}): {e['message']}" for e in peer["errors"]))
            if broken and ours_ok:
                verdict += " (check-spec MISSED a broken pact)"
                failures.append(f"{name}: broken on purpose, yet check-spec says compatible")
            rows.append((name, peer_text, ours_text, verdict))

    widths = [max(len(r[i]) for r in rows + [("case", "swagger-mock-validator", "check-spec", "agreement")]) for i in range(4)]
    header = ("case", "swagger-mock-validator", "check-spec", "agreement")
    for row in [header] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if failures:
        print("\nthe tools disagree where spec-divergences.toml explains nothing:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    agreed = sum(1 for r in rows if r[3] == "agree")
    print(f"{len(rows)} cases: {agreed} agree, {len(rows) - agreed} differ as spec-divergences.toml explains, 0 disagree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
