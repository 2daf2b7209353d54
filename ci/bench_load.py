#!/usr/bin/env python3
"""Load benchmark: the emulator's change-password success and failure paths
at 32 connections (wrk), beside the official Pact stub server (`pact stub`)
serving the same pact, in one run. Prints requests/s, p99 latency, and the
emulator's resident memory after the run. Figures only: it never fails on
speed; it fails when a server answers other than expected.

Targets (issue 3): at least 20 times the stub's throughput, p99 under 5 ms,
the emulator under 30 MiB resident after the run.

Usage: ci/bench_load.py ORCHESTRATOR_PACT PACT_CLI [SECONDS]
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONNECTIONS = 32
EXAMPLE_USER = "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b"

# One connection per wrk thread: each thread's requests are sequential, so a
# thread can alternate a user's password between two values and every
# request is a success.
SUCCESS_LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end
function init(args)
  local i = 0
  for line in io.lines(args[1]) do
    i = i + 1
    if i == index then
      user, a, b = line:match("(%S+) (%S+) (%S+)")
    end
  end
  bad = 0
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  return wrk.format("POST", "/identity_/api/User/" .. user .. "/changepassword", nil,
    '{"oldPassword":"' .. a .. '","newPassword":"' .. b .. '"}')
end
-- The next request is built after this answer is read: swap on success.
function response(status, headers, body)
  if status == __STATUS__ then
    a, b = b, a
  else
    bad = bad + 1
    io.stderr:write(string.format("thread %d: %d %s\n", index, status, body))
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("UNEXPECTED %d\n", total))
end
"""

STATIC_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  bad = 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.path = args[3]
  wrk.body = args[4]
end
function response(status, headers, body)
  if status ~= __STATUS__ then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("UNEXPECTED %d\n", total))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run_wrk(url, script, args, seconds, show_errors=True):
    argv = ["wrk", "-t", str(CONNECTIONS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", "-s", script, url, "--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    out = done.stdout
    if done.stderr.strip() and show_errors:
        print(done.stderr.strip()[:2000], file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    unexpected = int(re.search(r"UNEXPECTED (\d+)", out).group(1))
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99": float(p99.group(1)) * scale, "unexpected": unexpected,
            "socket_errors": errors.group(1) if errors else "none", "non2xx": int(non2xx.group(1)) if non2xx else 0}


def main():
    ours, pact = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    os.environ["PACT_DO_NOT_TRACK"] = "true"
    token = "bench-token"
    tmp = tempfile.mkdtemp()
    results = {}
    emulator = subprocess.Popen([ours, "serve", "--token", token, "--lockout-threshold", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stub_port = free_port()
    stub = subprocess.Popen([pact, "stub", "-f", "pacts/automation-client-uipath-identity.json", "-p", str(stub_port), "-l", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = emulator.stdout.readline().strip()
        users = os.path.join(tmp, "users.txt")
        with open(users, "w") as f:
            for _ in range(CONNECTIONS):
                req = urllib.request.Request(f"{url}/_pact/provider-states", method="POST",
                                             data=json.dumps({"state": "a user exists with a known password"}).encode(),
                                             headers={"Content-Type": "application/json"})
                v = json.load(urllib.request.urlopen(req))
                f.write(f"{v['userId']} {v['oldPassword']} {v['newPassword']}\n")
        first = open(users).readline().split()
        scripts = {}
        for name, template, status in [("success", SUCCESS_LUA, 200), ("static200", STATIC_LUA, 200), ("static400", STATIC_LUA, 400)]:
            scripts[name] = os.path.join(tmp, f"{name}.lua")
            with open(scripts[name], "w") as f:
                f.write(template.replace("__STATUS__", str(status)))
        wrong_body = json.dumps({"oldPassword": "Wrong-passw0rd-x", "newPassword": "New-passw0rd-x"}, separators=(",", ":"))
        results["emulator, success path"] = run_wrk(url, scripts["success"], [users, token], seconds)
        results["emulator, failure path (wrong old password)"] = run_wrk(
            url, scripts["static400"], [users, token, f"/identity_/api/User/{first[0]}/changepassword", wrong_body], seconds)
        memory = rss_mib(emulator.pid)
        wait_listening(stub_port)
        if stub.poll() is not None:
            # Its port was taken after free_port(): whoever answers there is not it.
            raise RuntimeError(f"pact stub exited ({stub.returncode}): port {stub_port} is another server's")
        stub_url = f"http://127.0.0.1:{stub_port}"
        path = f"/identity_/api/User/{EXAMPLE_USER}/changepassword"
        results["pact stub, success path"] = run_wrk(
            stub_url, scripts["static200"], [users, "example-token", path,
                                             json.dumps({"oldPassword": "Old-passw0rd", "newPassword": "New-passw0rd"}, separators=(",", ":"))], seconds, False)
        results["pact stub, failure path (wrong old password)"] = run_wrk(
            stub_url, scripts["static400"], [users, "example-token", path,
                                             json.dumps({"oldPassword": "Wrong-passw0rd", "newPassword": "New-passw0rd"}, separators=(",", ":"))], seconds, False)
    finally:
        for p in (emulator, stub):
            p.terminate()
            p.wait()

    print(f"\nload benchmark: wrk, {CONNECTIONS} connections, {seconds} s per run, {os.cpu_count()} cores shared with wrk")
    print(f"{'server and path':<48} {'requests/s':>11} {'p99':>9} {'unexpected':>11}")
    for name, r in results.items():
        print(f"{name:<48} {r['rps']:>11.0f} {r['p99']:>6.2f} ms {r['unexpected']:>11}")
    ok_s = results["emulator, success path"]["rps"] / results["pact stub, success path"]["rps"]
    ok_f = results["emulator, failure path (wrong old password)"]["rps"] / results["pact stub, failure path (wrong old password)"]["rps"]
    worst_p99 = max(results["emulator, success path"]["p99"], results["emulator, failure path (wrong old password)"]["p99"])
    print(f"\nthroughput vs stub: success {ok_s:.1f}x, failure {ok_f:.1f}x (target: at least 20x)")
    print(f"emulator p99: {worst_p99:.2f} ms (target: under 5 ms)")
    print(f"emulator resident memory after the run: {memory:.1f} MiB (target: under 30 MiB)")
    for name, r in results.items():
        if name.startswith("pact stub") and r["unexpected"]:
            print(f"note: {name}: {r['unexpected']} answers were another interaction's: a stateless stub cannot tell"
                  " interactions apart whose requests differ only in values that type matchers accept")
    bad = {n: r for n, r in results.items() if r["unexpected"] and n.startswith("emulator")}
    if bad:
        print(f"FAILED: unexpected answers: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
