#!/usr/bin/env python3
"""Benchmark: how `orchestrator-pact verify` scales with the number of
interactions (issue 12), beside the official Pact verifier, in one run.

Pacts of 5, 50 and 500 interactions are made in a temporary folder by
copying the interactions of `pacts/*.json` under new descriptions. For each
size it prints the median wall time and the peak resident memory of:
ours with the embedded emulator, ours against `serve` (through its state
URL), and the official verifier against the same `serve`. Then the
live-latency case: `serve` acting as a tenant that answers every request
after 100 ms, verified with throwaway users (client credentials), one
interaction at a time (`--jobs 1`) and with the default `--jobs`, side by
side (a build without `--jobs` is measured once, as it runs).

Figures only: it never fails on speed, only when a verifier does not verify.

Usage: ci/bench_scale.py ORCHESTRATOR_PACT PACT_CLI [SIZES]
  SIZES: comma-separated interaction counts (default 5,50,500).
  BENCH_SCALE_RUNS: runs per size below 500 (default 5; 500 and more: 1).
  BENCH_SCALE_LIVE_RUNS: runs of each live-latency case (default 5).
"""
import copy
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CLIENT, SECRET = "bench", "bench-s3cret-2c9a"
ORG = "6f726368-6573-7472-6174-6f722d706163"


def run_once(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)  # KiB on Linux


def make_pacts(folder, size):
    """Writes pact files holding `size` interactions in all, copied from
    `pacts/*.json` with new descriptions, into `folder`."""
    sources = [json.load(open(p)) for p in sorted(glob.glob("pacts/*.json"))]
    recorded = sum(len(p["interactions"]) for p in sources)
    os.makedirs(folder)
    left = size
    for n, pact in enumerate(sources):
        want = left if n == len(sources) - 1 else len(pact["interactions"]) * size // recorded
        left -= want
        made = copy.deepcopy(pact)
        made["interactions"] = []
        for k in range(want):
            i = copy.deepcopy(pact["interactions"][k % len(pact["interactions"])])
            i["description"] = f"{i['description']} (copy {k})"
            i.pop("key", None)  # V4 keys are derived from the description
            made["interactions"].append(i)
        with open(f"{folder}/{n}.json", "w") as f:
            json.dump(made, f)


def files(folder):
    """`--file F` for each pact of `folder` (the official CLI's `--dir`
    verifies nothing in 18.x)."""
    return [a for f in sorted(glob.glob(f"{folder}/*.json")) for a in ("--file", f)]


class Serve:
    """`orchestrator-pact serve` on a free port, with extra flags."""

    def __init__(self, ours, *flags):
        self.proc = subprocess.Popen([ours, "serve", *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        self.port = self.url.rsplit(":", 1)[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def measure(commands, runs):
    """Median wall time and peak RSS of each command, runs interleaved."""
    results = {name: [] for name in commands}
    for name, argv in commands.items():  # a correctness check, and a warm-up
        wall, rss, code = run_once(argv)
        if code != 0:
            raise SystemExit(f"FAILED: `{' '.join(argv)}` exited {code}")
        if runs == 1:
            results[name].append((wall, rss))
    for _ in range(runs if runs > 1 else 0):
        for name, argv in commands.items():
            wall, rss, _ = run_once(argv)
            results[name].append((wall, rss))
    return {name: (statistics.median(s[0] for s in samples), max(s[1] for s in samples))
            for name, samples in results.items()}


def main():
    ours, pact = sys.argv[1], sys.argv[2]
    sizes = [int(s) for s in (sys.argv[3] if len(sys.argv) > 3 else "5,50,500").split(",")]
    small_runs = int(os.environ.get("BENCH_SCALE_RUNS", "5"))
    os.environ["PACT_DO_NOT_TRACK"] = "true"
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    rows = []
    serve = Serve(ours)
    try:
        states = f"{serve.url}/_pact/provider-states"
        for size in sizes:
            folder = f"{tmp}/{size}"
            make_pacts(folder, size)
            runs = small_runs if size < 500 else 1
            figures = measure({
                "ours, embedded": [ours, "verify", "--pacts", folder],
                "ours vs serve": [ours, "verify", "--pacts", folder, "--base-url", serve.url,
                                  "--state-change-url", states, "--state-change-teardown"],
                "official vs serve": [pact, "verifier", "--no-colour", "--loglevel", "none",
                                      *files(folder), "--hostname", "127.0.0.1", "--port", serve.port,
                                      "--state-change-url", states, "--state-change-teardown"],
            }, runs)
            rows.append((size, runs, figures))
    finally:
        serve.stop()

    # The live-latency case: a tenant double that delays every answer.
    tenant = Serve(ours, "--client", f"{CLIENT}:{SECRET}", "--organization-id", ORG,
                   "--fault", "route=any,kind=delay,delay-ms=100")
    live_args = [ours, "verify", "--pacts", "pacts", "--base-url", f"{tenant.url}/org/tenant/",
                 "--client-id", CLIENT, "--client-secret", SECRET, "--organization-id", ORG]
    has_jobs = "--jobs" in subprocess.run([ours, "verify", "--help"], capture_output=True,
                                          text=True).stdout
    cases = ({"--jobs 1": [*live_args, "--jobs", "1"], "default --jobs": live_args}
             if has_jobs else {"(no --jobs: one at a time)": live_args})
    try:
        live = measure(cases, int(os.environ.get("BENCH_SCALE_LIVE_RUNS", "5")))
    finally:
        tenant.stop()

    print(f"\nscale benchmark: median wall time / peak RSS, on {os.cpu_count()} cores,"
          f" load {os.getloadavg()[0]:.1f}")
    names = list(rows[0][2])
    print(f"{'interactions':>12} {'runs':>4} " + " ".join(f"{n:>26}" for n in names)
          + f" {'ours/official':>14} {'ms/interaction':>15}")
    for size, runs, figures in rows:
        cells = " ".join(f"{figures[n][0]:>9.2f} s {figures[n][1]:>8.1f} MiB   " for n in names)
        ratio = figures["ours vs serve"][0] / figures["official vs serve"][0]
        per = figures["ours, embedded"][0] / size * 1000
        print(f"{size:>12} {runs:>4} {cells} {ratio:>14.2f} {per:>15.2f}")
    if len(rows) > 1:
        (small, _, a), (big, _, b) = rows[-2], rows[-1]
        growth = b["ours, embedded"][0] / a["ours, embedded"][0]
        print(f"\nours embedded, {big} vs {small} interactions: {growth:.1f}x the time"
              f" (linear would be {big / small:.0f}x; target at most 12x for 500 vs 50)")
        if len(rows) > 2:
            (_, _, c) = rows[-3]
            marginal = (b["ours, embedded"][0] - c["ours, embedded"][0]) / (big - rows[-3][0]) * 1000
            print(f"marginal cost per interaction, embedded: {marginal:.2f} ms (target at most 1 ms)")
    # Issue 12: peak memory must grow at most linearly, with small constants
    # (every generated password is registered with the redactor).
    state_url = [(size, figures["ours vs serve"][1]) for size, _, figures in rows]
    for size, rss in state_url:
        if size >= 500:
            print(f"ours vs serve (state URL), {size} interactions: peak RSS {rss:.1f} MiB")
    if len(state_url) > 1:
        (small, a), (big, b) = state_url[-2], state_url[-1]
        print(f"peak memory per interaction, state URL: {(b - a) * 1024 / (big - small):.1f} KiB"
              " (at most 15 KiB, i.e. 5,000 interactions under 100 MB)")
    print("\nlive latency: throwaway users, a tenant answering each request after 100 ms,"
          " the 5 recorded interactions (target at most 0.9 s with the default)")
    print("  " + "   ".join(f"{name}: {wall:.2f} s, {rss:.1f} MiB"
                            for name, (wall, rss) in live.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
