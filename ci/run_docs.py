#!/usr/bin/env python3
"""Runs the commands the README and the guides show, compares the outputs
they show with what the tool prints, and checks every relative link.
ci/run-docs.sh calls it; docs/building.md ("How the guides are checked")
is its user guide.

Per Markdown file, in order:
- a ```sh block runs as one bash script (`set -eo pipefail`), from the
  repository's root, with `orchestrator-pact` on PATH;
- a ```console block holds `$ ` commands, each followed by the output it
  shows: the commands run in one bash session, and each command's stdout
  and stderr together must equal what is shown, after normalising what
  differs from run to run (durations, ports, UUIDs); a line `…` alone
  stands for any number of lines;
- a ```yaml block that uses the project's GitHub Action may only name
  inputs action.yml declares;
- other languages (json, toml, rust, text) are not commands.

An HTML comment right before a block says how to run it, one directive
per line (or `;`-separated):
  not runnable: WHY       shown, never run (a real tenant, GitHub, Docker)
  elsewhere: FILE         run by FILE (such as .ci/run), which must contain
                          each of the block's command lines
  background              a server: started, ready once it printed its
                          first line, stopped at the end of the file
  exit N                  the block's (or last command's) exit code
  env NAME=VALUE          set for the block (VALUE is expanded by bash)
  replace OLD => NEW      text replaced before running (NEW expanded by bash)
  tenant [credentials=client|pat]
                          a local `serve` stands in for the tenant:
                          `https://cloud.uipath.com` becomes its URL,
                          `NAME=…` its value, and the credentials named
                          are exported (UIPATH_ORGANIZATION_ID with client)
  broker                  a local Pact Broker double (PACT_BROKER_BASE_URL)
  files DIR               a static file server on DIR ($FILES_URL)
  identity-openapi        run only where UiPath's OpenAPI document is
                          (IDENTITY_OPENAPI, else ../shared/reference/
                          identity-openapi.yaml, as ci/identity-openapi.sh
                          says), its path put in place of the default
Sets of doubles are started once per file and stopped at its end.
"""

import argparse
import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

FENCE = re.compile(r"^( *)```(\S*)\s*$")
DIRECTIVE = re.compile(r"<!--\s*docs-run:(.*?)-->", re.S)
ELLIPSIS = "…"


class Failure(Exception):
    pass


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def parse(path):
    """The fenced blocks of a Markdown file, with the directives of the
    HTML comment right before each (blank lines allowed between)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise Failure(f"{path}:{start + 1}: the block is not closed")
        i += 1
        # The directive comment: the text before the fence, back to the
        # previous non-blank line, if that ends a `<!-- docs-run: ... -->`.
        before = "\n".join(lines[:start]).rstrip()
        directives = []
        m2 = None
        for m2 in DIRECTIVE.finditer(before):
            pass
        if m2 and m2.end() == len(before):
            for part in re.split(r"\n|;(?=\s*(?:not runnable|elsewhere|background|exit|env|replace|tenant|broker|files|needs)\b)", m2.group(1)):
                if part.strip():
                    directives.append(part.strip())
        blocks.append({"line": start + 1, "lang": lang, "text": "\n".join(body), "directives": directives})
    return blocks


def prose(path):
    """A Markdown file's text outside its fenced blocks."""
    kept, fenced = [], False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if FENCE.match(line) or (fenced and line.strip() == "```"):
            fenced = not fenced if FENCE.match(line) else False
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def check_links(paths, root):
    """Every relative link and #anchor in `paths` resolves."""
    anchors, problems = {}, []

    def anchors_of(p):
        if p not in anchors:
            text = prose(p)
            anchors[p] = {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}
        return anchors[p]

    count = 0
    for p in paths:
        text = re.sub(r"`[^`\n]*`", "", prose(p))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            count += 1
            file, _, anchor = target.partition("#")
            dest = (p.parent / file).resolve() if file else p.resolve()
            if not dest.exists():
                problems.append(f"{p.relative_to(root)}: link to {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors_of(dest):
                problems.append(f"{p.relative_to(root)}: link to {target}: no such heading in {dest.relative_to(root)}")
    return count, problems


def normalise(text):
    text = re.sub(r"\(\d+ ms\)", "(N ms)", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    return lines


def matches(shown, actual):
    """`shown` (a block's sample, normalised) against `actual`: equal, where
    a line `…` stands for any number of lines."""
    pattern = ""
    for line in shown:
        if line.strip() == ELLIPSIS:
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += re.escape(line) + r"\n"
    return re.fullmatch(pattern, "\n".join(actual) + "\n") is not None


def console_commands(text):
    """A console block's commands and the output shown after each: a command
    starts at `$ ` and goes on while bash finds it incomplete."""
    items, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise Failure(f"a console block must start with a `$ ` command, not {lines[i]!r}")
        command = lines[i][2:]
        i += 1
        while (command.endswith("\\") or not complete(command)) and i < len(lines):
            command += "\n" + lines[i]
            i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        items.append((command, "\n".join(output)))
    return items


@functools.lru_cache(maxsize=None)
def complete(command):
    return subprocess.run(["bash", "-n", "-c", command], capture_output=True).returncode == 0


class FileRun:
    """Runs the blocks of one Markdown file, with its doubles."""

    def __init__(self, runner, path):
        self.runner, self.path = runner, path
        self.processes = []
        self.env = dict(runner.env)
        self.servers = []

    def label(self, block):
        return f"{self.path.relative_to(self.runner.root)}:{block['line']}"

    def start(self, argv, what, env=None):
        out = tempfile.NamedTemporaryFile("w+", delete=False, dir=self.runner.tmp)
        err = tempfile.NamedTemporaryFile("w+", delete=False, dir=self.runner.tmp)
        process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=self.runner.root,
                                   env=env or self.env, start_new_session=True)
        self.processes.append(process)
        deadline = time.time() + 120
        while time.time() < deadline:
            first = Path(out.name).read_text().split("\n")[0]
            if first and process.poll() is None:
                return first.strip()
            if process.poll() is not None:
                raise Failure(f"{what} stopped (exit {process.returncode}) before it was ready: {Path(err.name).read_text()[-2000:]}")
            time.sleep(0.1)
        raise Failure(f"{what} printed nothing within 120 s")

    def tenant(self):
        if "TENANT_URL" not in self.env:
            org, user = str(uuid.uuid4()), str(uuid.uuid4())
            secret, pat, password = f"docs-Secret-{uuid.uuid4().hex[:12]}", f"docs-pat-{uuid.uuid4().hex[:12]}", "Docs-passw0rd-1"
            url = self.start([self.runner.binary, "serve", "--port", "0", "--client", f"docs-app:{secret}",
                              "--token", pat, "--organization-id", org, "--user", f"{user}:{password}"],
                             "the tenant double (serve)")
            self.env.update(TENANT_URL=url.rstrip("/"), TENANT_ORGANIZATION_ID=org, TENANT_CLIENT_ID="docs-app",
                            TENANT_CLIENT_SECRET=secret, TENANT_PAT=pat, TENANT_USER_ID=user,
                            TENANT_USER_PASSWORD=password)
            self.runner.secrets += [secret, pat, password]

    def broker(self):
        if "PACT_BROKER_BASE_URL" not in self.env:
            if not self.runner.broker_double:
                raise Failure("a block needs the broker double: pass --broker-double")
            self.env["PACT_BROKER_BASE_URL"] = self.start([self.runner.broker_double], "the broker double")

    def files(self, directory):
        handler = functools.partial(QuietHandler, directory=str(self.runner.root / directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        self.env["FILES_URL"] = f"http://127.0.0.1:{server.server_address[1]}"

    def stop(self):
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for server in self.servers:
            server.shutdown()

    def prepare(self, block):
        """The block's script text and environment after its directives;
        None when it is not run here, with the reason."""
        text, exports, expected = block["text"], [], 0
        background = False
        for d in block["directives"]:
            word, _, rest = d.partition(" ")
            if d.startswith("not runnable:"):
                return None, d[len("not runnable:"):].strip(), None, None
            elif d.startswith("elsewhere:"):
                self.elsewhere(block, d[len("elsewhere:"):].strip())
                return None, None, None, None
            elif word == "identity-openapi":
                # UiPath's document is an optional input, never in the
                # repository: where ci/identity-openapi.sh finds it.
                default = "../shared/reference/identity-openapi.yaml"
                given = self.runner.identity_openapi or default
                if not (self.runner.root / given).is_file():
                    return None, f"skipped here: UiPath's OpenAPI document is not at {given} (set IDENTITY_OPENAPI)", None, None
                text = text.replace(default, given)
            elif word == "background":
                background = True
            elif word == "exit":
                expected = int(rest)
            elif word == "env":
                exports.append(f"export {rest.strip()}")
            elif word == "replace":
                old, sep, new = rest.partition("=>")
                if not sep or old.strip() not in text:
                    raise Failure(f"{self.label(block)}: `{d}`: the block has no {old.strip()!r}")
                text = text.replace(old.strip(), f"{{{{{len(exports)}}}}}")
                exports.append(f'__docs_sub_{len(exports)}="{new.strip()}"')
            elif word == "tenant":
                self.tenant()
                text = text.replace("https://cloud.uipath.com", "$TENANT_URL")
                for name, var in [("UIPATH_ORGANIZATION_ID", "TENANT_ORGANIZATION_ID"),
                                  ("UIPATH_CLIENT_ID", "TENANT_CLIENT_ID"),
                                  ("UIPATH_CLIENT_SECRET", "TENANT_CLIENT_SECRET")]:
                    text = text.replace(f"{name}={ELLIPSIS}", f'{name}="${var}"')
                if "credentials=client" in rest:
                    exports += ['export UIPATH_ORGANIZATION_ID="$TENANT_ORGANIZATION_ID"',
                                'export UIPATH_CLIENT_ID="$TENANT_CLIENT_ID"',
                                'export UIPATH_CLIENT_SECRET="$TENANT_CLIENT_SECRET"']
                if "credentials=pat" in rest:
                    exports.append('export UIPATH_PAT="$TENANT_PAT"')
            elif word == "broker":
                self.broker()
            elif word == "files":
                self.files(rest.strip())
            else:
                raise Failure(f"{self.label(block)}: unknown directive {d!r}")
        # Replacements are applied by bash, so that NEW may use variables.
        for n, line in enumerate(exports):
            if line.startswith("__docs_sub_"):
                text = text.replace(f"{{{{{n}}}}}", f"${{__docs_sub_{n}}}")
        return text, exports, expected, background

    def elsewhere(self, block, where):
        source = (self.runner.root / where).read_text(encoding="utf-8")
        for line in block["text"].split("\n"):
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and command not in source:
                raise Failure(f"{self.label(block)}: says {where} runs `{command}`, which it does not")
        self.runner.elsewhere.append((self.label(block), where))

    def run(self):
        try:
            for block in parse(self.path):
                self.block(block)
        finally:
            self.stop()

    def block(self, block):
        lang = block["lang"]
        if lang in ("yaml", "yml"):
            self.runner.check_action_inputs(self.label(block), block["text"])
            return
        if lang not in ("sh", "bash", "console"):
            if lang == "":
                raise Failure(f"{self.label(block)}: a block without a language: say `sh`, `console` or `text`")
            return
        text, exports, expected, background = self.prepare(block)
        if text is None:
            if exports:
                self.runner.skipped.append((self.label(block), exports))
            return
        prelude = "\n".join(exports)
        started = time.time()
        if background:
            self.start(["bash", "-c", prelude + "\n" + text], f"{self.label(block)} (background)")
            self.runner.ran.append(self.label(block))
        elif lang == "console":
            self.console(block, prelude, text, expected)
        else:
            self.script(block, prelude, text, expected)
        print(f"  ran {self.label(block)} ({lang}{', background' if background else ''}) in {time.time() - started:.1f} s", flush=True)

    def script(self, block, prelude, text, expected):
        result = subprocess.run(["bash", "-c", "set -eo pipefail\n" + prelude + "\n" + text],
                                cwd=self.runner.root, env=self.env, capture_output=True, text=True, timeout=900)
        self.runner.check_output(self.label(block), result.stdout + result.stderr)
        if self.runner.show:
            print(result.stdout + result.stderr, flush=True)
        if result.returncode != expected:
            raise Failure(f"{self.label(block)}: exit {result.returncode}, expected {expected}\n"
                          f"--- the block as run:\n{prelude}\n{text}\n--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}")
        self.runner.ran.append(self.label(block))

    def console(self, block, prelude, text, expected):
        items = console_commands(text)
        mark = "\x1edocs-run"
        script = [prelude]
        for n, (command, _) in enumerate(items):
            script.append(f"printf '\\n{mark} %s\\n' {n}")
            script.append(f"{command}\n__status=$?")
            script.append(f"printf '\\n{mark} status %s\\n' $__status")
        result = subprocess.run(["bash", "-c", "\n".join(script) + "\n"], cwd=self.runner.root, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        self.runner.check_output(self.label(block), result.stdout)
        if self.runner.show:
            print(result.stdout, flush=True)
        parts = result.stdout.split(f"\n{mark} ")[1:]
        outputs, statuses = [], []
        for part in parts:
            head, _, body = part.partition("\n")
            if head.startswith("status "):
                statuses.append(int(head.split()[1]))
            else:
                outputs.append(body)
        if len(outputs) != len(items) or len(statuses) != len(items):
            raise Failure(f"{self.label(block)}: the session ended early:\n{result.stdout}")
        for n, ((command, shown), actual, status) in enumerate(zip(items, outputs, statuses)):
            want = expected if n == len(items) - 1 else 0
            if status != want:
                raise Failure(f"{self.label(block)}: `{command}` exited {status}, expected {want}:\n{actual}")
            if not matches(normalise(shown), normalise(actual)):
                raise Failure(f"{self.label(block)}: `{command}` printed something else than the guide shows\n"
                              f"--- shown (normalised):\n" + "\n".join(normalise(shown)) +
                              "\n--- printed (normalised):\n" + "\n".join(normalise(actual)))
            self.runner.compared += 1
        self.runner.ran.append(self.label(block))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Runner:
    def __init__(self, root, binary, broker_double):
        self.root, self.binary, self.broker_double = root, binary, broker_double
        self.tmp = tempfile.mkdtemp(prefix="run-docs-")
        bin_dir = Path(self.tmp) / "bin"
        bin_dir.mkdir()
        (bin_dir / "orchestrator-pact").symlink_to(binary)
        # A clean environment, as a reader's shell would have: no CI
        # system's variables, which publish would read.
        keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN")
        self.env = {k: os.environ[k] for k in keep if k in os.environ}
        self.env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PACT_DO_NOT_TRACK="true",
                        DOCS_TMP=self.tmp, CARGO_TERM_COLOR="never", NO_COLOR="1")
        self.ran, self.skipped, self.elsewhere, self.compared, self.secrets = [], [], [], 0, []
        self.action_inputs = set(re.findall(r"^  ([a-z][a-z-]*):$", (root / "action.yml").read_text(encoding="utf-8").split("\noutputs:")[0], re.M))
        self.yaml_checked = 0
        self.show = False
        self.identity_openapi = os.environ.get("IDENTITY_OPENAPI", "")

    def check_output(self, label, text):
        for secret in self.secrets:
            if secret in text:
                raise Failure(f"{label}: a double's secret was printed")

    def check_action_inputs(self, label, text):
        if "uses: orchestrator-pact/orchestrator-pact@" not in text:
            return
        for name in re.findall(r"^\s+([a-z][a-z-]*):", text.split("with:", 1)[-1], re.M):
            if name not in self.action_inputs:
                raise Failure(f"{label}: the action has no input `{name}`")
        self.yaml_checked += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="Markdown files (default: README.md, docs/*.md, the crates' READMEs, */README.md)")
    parser.add_argument("--binary", required=True, help="the orchestrator-pact binary")
    parser.add_argument("--broker-double", help="the broker double (cargo build --example broker-double)")
    parser.add_argument("--show", action="store_true", help="print what each block printed")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    paths = [Path(f).resolve() for f in args.files] or \
        [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted(root.glob("*/README.md"))]
    runner = Runner(root, str(Path(args.binary).resolve()), args.broker_double and str(Path(args.broker_double).resolve()))
    runner.show = args.show
    before = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    try:
        links, problems = check_links(paths, root)
        if problems:
            raise Failure("broken links:\n" + "\n".join(problems))
        for path in paths:
            print(f"{path.relative_to(root)}", flush=True)
            FileRun(runner, path).run()
        after = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
        if after != before:
            raise Failure(f"the guides' commands changed the checkout:\n{after}")
    except Failure as e:
        print(f"docs FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(runner.tmp, ignore_errors=True)
    for label, reason in runner.skipped:
        print(f"  not run: {label}: {reason}")
    for label, where in runner.elsewhere:
        print(f"  run elsewhere: {label}: by {where}")
    print(f"docs: {len(runner.ran)} blocks run ({runner.compared} outputs compared), "
          f"{len(runner.elsewhere)} run by another CI step, {len(runner.skipped)} not run; "
          f"{runner.yaml_checked} action examples checked against action.yml; {links} relative links resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
