#!/usr/bin/env python3
"""Fidelity: run schemathesis against `orchestrator-pact serve` with the user
operations of UiPath's own OpenAPI document, read at run time from the file
ci/schemathesis-emulator.sh passes (never copied into the project).

Checks: no server errors, and every declared response conforms to its schema.

The one known divergence is allowed, and only it: ASP.NET Core answers a
request that cannot be bound (a body or parameter of the wrong type) with 400
ValidationProblemDetails, which UiPath's API guide documents and the OpenAPI
document does not declare. The derived document adds exactly that 400 shape
to each user operation (as an alternative to the declared 400, if any); any
other departure fails the run.

Usage: ci/schemathesis_emulator.py ORCHESTRATOR_PACT SPEC [MAX_EXAMPLES]
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

import yaml

VALIDATION_PROBLEM = {
    "type": "object",
    "required": ["title", "status", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "traceId": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def derive(spec):
    """The user operations of `spec`, with the known divergence declared."""
    derived = {k: v for k, v in spec.items() if k != "paths"}
    derived["paths"] = {}
    patched = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/User"):
            continue
        kept = {}
        for method, operation in item.items():
            if not isinstance(operation, dict) or "User" not in operation.get("tags", []):
                continue
            operation = copy.deepcopy(operation)
            responses = operation.setdefault("responses", {})
            declared = responses.get("400", {}).get("content", {}).get("application/json", {}).get("schema")
            schema = {"oneOf": [declared, VALIDATION_PROBLEM]} if declared else VALIDATION_PROBLEM
            responses["400"] = {
                "description": "Bad Request (model binding failure: the known divergence)",
                "content": {
                    "application/json": {"schema": schema},
                    "application/problem+json": {"schema": schema},
                },
            }
            kept[method] = operation
            patched.append(f"{method.upper()} {path}")
        if kept:
            derived["paths"][path] = kept
    return derived, patched


def main():
    binary, spec_path = sys.argv[1], sys.argv[2]
    max_examples = sys.argv[3] if len(sys.argv) > 3 else "60"
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    derived, patched = derive(spec)
    print("schemathesis against the emulator, with the user operations of", spec_path)
    print("known divergence allowed (400 ValidationProblemDetails added) on:")
    for op in patched:
        print("  ", op)
    token = "schemathesis-token"
    with tempfile.TemporaryDirectory() as tmp:
        derived_path = os.path.join(tmp, "identity-user-operations.json")
        with open(derived_path, "w") as f:
            json.dump(derived, f)
        emulator = subprocess.Popen(
            [binary, "serve", "--token", token, *os.environ.get("EMULATOR_EXTRA_ARGS", "").split()], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            url = emulator.stdout.readline().strip()
            if not url.startswith("http://"):
                print("the emulator did not start", file=sys.stderr)
                return 2
            argv = [
                "run", derived_path,
                "--url", f"{url}/identity_",
                "--checks", "not_a_server_error,response_schema_conformance",
                "--header", f"Authorization: Bearer {token}",
                "--max-examples", max_examples,
                "--seed", "20261127",
                # One worker: with more, schemathesis runs hypothesis in
                # threads, and CPython 3.11 can fail with "AST constructor
                # recursion depth mismatch" when two threads parse source at
                # once (CPython gh-106905); that failed a CI run.
                "--workers", "1",
                "--continue-on-failure",
                "--warnings", "off",
            ]
            print("$ schemathesis", " ".join(argv))
            # The schemathesis of this interpreter, whatever is on PATH.
            cli = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis(prog_name='schemathesis')"]
            # Run inside the temporary folder: schemathesis keeps a cache of
            # failing cases (with the document's schemas) in its working
            # directory, which must be neither the repository nor replayed
            # from an earlier run.
            code = subprocess.call(cli + argv, cwd=tmp)
        finally:
            emulator.terminate()
            emulator.wait()
    print(f"schemathesis exit code: {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
