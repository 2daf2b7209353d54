#!/usr/bin/env python3
"""Runs the steps of a composite GitHub Action (an action.yml) the way
GitHub's runner does, so that CI can run the action without GitHub, Docker
or `act`:

- inputs: the action's defaults, overridden by `--input NAME=VALUE`; an
  input the action does not declare, or a required one not given, is an
  error (GitHub only warns about the first);
- `${{ ... }}` in a step's `env`, `run` and `working-directory`, and in the
  action's `outputs`, is replaced before the step runs, from `inputs.*`,
  `github.action_path`, `github.action_ref`, `github.workspace`,
  `runner.temp`, `runner.os`, `runner.arch`, `steps.ID.outputs.NAME` and
  `env.NAME`; any other expression is an error, never an empty string;
- `shell: bash` runs the script as GitHub does: written to a file and
  started as `bash --noprofile --norc -eo pipefail FILE`; other shells,
  `uses:` steps and `if:` are refused (the project's action has none);
- each step gets GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and
  GITHUB_STEP_SUMMARY files, read back after it (`NAME=VALUE` and
  `NAME<<DELIMITER` forms), and GITHUB_ACTION_PATH, GITHUB_WORKSPACE,
  RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH, GITHUB_ACTIONS=true, CI=true;
- the first step that fails ends the action with its exit code, as it
  fails the workflow's step. The action's outputs are printed last as
  `output NAME=VALUE`, the way a later step would read them.

Secrets are not masked here (GitHub masks `secrets.*` in its logs): a test
that reads this output sees what the action itself printed.

  python3 ci/run_action.py action.yml [--input NAME=VALUE ...]
      [--action-ref REF] [--workspace DIR] [--summary FILE]
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
NAME = r"[A-Za-z_][A-Za-z0-9_-]*"


class ActionError(Exception):
    """The action uses something this runner does not do as GitHub does."""


def read_commands_file(path):
    """GITHUB_OUTPUT and GITHUB_ENV: `NAME=VALUE` lines, or `NAME<<END`,
    the value's lines, then `END`."""
    values = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while i < len(lines) and lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            if i == len(lines):
                raise ActionError(f"{path}: no closing {delimiter!r} for {name}")
            i += 1
            values[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ActionError(f"{path}: a line that is neither NAME=VALUE nor NAME<<END: {line!r}")
    return values


class Runner:
    def __init__(self, action_file, inputs, action_ref, workspace, summary):
        with open(action_file, encoding="utf-8") as f:
            self.action = yaml.safe_load(f)
        runs = self.action.get("runs", {})
        if runs.get("using") != "composite":
            raise ActionError("only composite actions (runs.using: composite) are run here")
        declared = self.action.get("inputs") or {}
        unknown = sorted(set(inputs) - set(declared))
        if unknown:
            raise ActionError(f"the action declares no input {', '.join(unknown)}")
        self.inputs = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name in inputs:
                self.inputs[name] = inputs[name]
            elif spec.get("required") and "default" not in spec:
                raise ActionError(f"the required input {name} was not given")
            else:
                self.inputs[name] = str(spec.get("default", ""))
        self.action_path = os.path.dirname(os.path.abspath(action_file))
        self.action_ref = action_ref
        self.workspace = os.path.abspath(workspace)
        self.temp = tempfile.mkdtemp(prefix="runner-temp-")
        self.summary = summary or os.path.join(self.temp, "step-summary.md")
        open(self.summary, "a", encoding="utf-8").close()
        self.env = dict(os.environ)
        self.env.update(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_ACTION_PATH=self.action_path,
            GITHUB_WORKSPACE=self.workspace,
            GITHUB_STEP_SUMMARY=self.summary,
            RUNNER_TEMP=self.temp,
            RUNNER_OS=self.runner_os(),
            RUNNER_ARCH=self.runner_arch(),
        )
        self.outputs = {}

    @staticmethod
    def runner_os():
        return {"Linux": "Linux", "Darwin": "macOS", "Windows": "Windows"}[platform.system()]

    @staticmethod
    def runner_arch():
        machine = platform.machine().lower()
        return {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}[machine]

    def value_of(self, expression):
        m = re.fullmatch(rf"inputs\.({NAME})", expression)
        if m:
            if m.group(1) not in self.inputs:
                raise ActionError(f"${{{{ {expression} }}}}: the action declares no such input")
            return self.inputs[m.group(1)]
        fixed = {
            "github.action_path": self.action_path,
            "github.action_ref": self.action_ref,
            "github.workspace": self.workspace,
            "runner.temp": self.temp,
            "runner.os": self.env["RUNNER_OS"],
            "runner.arch": self.env["RUNNER_ARCH"],
        }
        if expression in fixed:
            return fixed[expression]
        m = re.fullmatch(rf"steps\.({NAME})\.outputs\.({NAME})", expression)
        if m:
            # GitHub gives an empty string for a step that has not run or set
            # no such output.
            return self.outputs.get(m.group(1), {}).get(m.group(2), "")
        m = re.fullmatch(rf"env\.({NAME})", expression)
        if m:
            return self.env.get(m.group(1), "")
        raise ActionError(f"${{{{ {expression} }}}} is not an expression this runner evaluates")

    def substitute(self, text):
        return EXPRESSION.sub(lambda m: self.value_of(m.group(1)), str(text))

    def run_step(self, number, step):
        label = step.get("name") or step.get("id") or f"step {number}"
        for key in step:
            if key not in {"name", "id", "shell", "run", "env", "working-directory"}:
                raise ActionError(f"step {label!r}: `{key}:` is not run here")
        if step.get("shell") != "bash":
            raise ActionError(f"step {label!r}: shell {step.get('shell')!r}; only bash is run here")
        files = {}
        for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            fd, files[name] = tempfile.mkstemp(prefix=name.lower() + "-", dir=self.temp)
            os.close(fd)
        env = dict(self.env)
        env.update(files)
        for name, value in (step.get("env") or {}).items():
            env[name] = self.substitute(value)
        fd, script = tempfile.mkstemp(suffix=".sh", dir=self.temp)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.substitute(step["run"]))
        cwd = self.substitute(step.get("working-directory", self.workspace))
        print(f"::group::{label}", flush=True)
        status = subprocess.call(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
            env=env,
            cwd=os.path.join(self.workspace, cwd),
        )
        print("::endgroup::", flush=True)
        if "id" in step:
            self.outputs[step["id"]] = read_commands_file(files["GITHUB_OUTPUT"])
        self.env.update(read_commands_file(files["GITHUB_ENV"]))
        with open(files["GITHUB_PATH"], encoding="utf-8") as f:
            for line in f.read().splitlines():
                if line:
                    self.env["PATH"] = line + os.pathsep + self.env["PATH"]
        if status != 0:
            print(f"step {label!r} failed: exit code {status}", file=sys.stderr, flush=True)
        return status

    def run(self):
        status = 0
        for number, step in enumerate(self.action["runs"]["steps"], 1):
            status = self.run_step(number, step)
            if status != 0:
                break
        for name, spec in (self.action.get("outputs") or {}).items():
            print(f"output {name}={self.substitute(spec.get('value', ''))}", flush=True)
        return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", help="the action.yml to run")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--action-ref", default="", help="github.action_ref: the tag the workflow uses the action at")
    parser.add_argument("--workspace", default=".", help="GITHUB_WORKSPACE, where the steps run (default: here)")
    parser.add_argument("--summary", help="the GITHUB_STEP_SUMMARY file (default: a new one in RUNNER_TEMP)")
    args = parser.parse_args()
    inputs = {}
    for pair in args.input:
        name, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"--input {pair!r}: expected NAME=VALUE")
        inputs[name] = value
    try:
        runner = Runner(args.action, inputs, args.action_ref, args.workspace, args.summary)
        return runner.run()
    except ActionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
