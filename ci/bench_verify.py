#!/usr/bin/env python3
"""Benchmark: `orchestrator-pact verify` (release build) beside the official
Pact verifier, on the same pacts, against the same emulator, in one run.

Prints the median wall time and the peak resident memory of each, and the
ratio. Target: ours at most 0.5 of theirs in wall time. It never fails on
speed; it fails only when a verifier does not verify.

Usage: ci/bench_verify.py ORCHESTRATOR_PACT PACT_CLI [RUNS]
"""
import glob
import os
import statistics
import subprocess
import sys
import time


def run_once(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, code  # ru_maxrss is KiB on Linux


def main():
    ours_bin, pact_bin = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 21
    os.environ["PACT_DO_NOT_TRACK"] = "true"
    emulator = subprocess.Popen([ours_bin, "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = emulator.stdout.readline().strip()
        port = url.rsplit(":", 1)[1]
        states = f"{url}/_pact/provider-states"
        pacts = sorted(glob.glob("pacts/*.json"))
        files = [a for p in pacts for a in ("--file", p)]
        commands = {
            "orchestrator-pact verify (same emulator, via its state URL)": [
                ours_bin, "verify", "--base-url", url, "--state-change-url", states, "--state-change-teardown",
            ],
            "official pact verifier (same emulator, same state URL)": [
                pact_bin, "verifier", "--no-colour", "--loglevel", "none", *files,
                "--hostname", "127.0.0.1", "--port", port,
                "--state-change-url", states, "--state-change-teardown",
            ],
            "orchestrator-pact verify (embedded emulator, no set-up)": [ours_bin, "verify"],
        }
        results = {name: [] for name in commands}
        for name, argv in commands.items():  # warm-up, and a correctness check
            for _ in range(2):
                _, _, code = run_once(argv)
                if code != 0:
                    print(f"FAILED: `{' '.join(argv)}` exited {code}", file=sys.stderr)
                    return 1
        for _ in range(runs):  # interleaved, so drift hits every command alike
            for name, argv in commands.items():
                results[name].append(run_once(argv))
    finally:
        emulator.terminate()
        emulator.wait()

    print(f"\nverify benchmark: {len(pacts)} pact file(s), {runs} runs each, interleaved, on {os.cpu_count()} cores")
    print(f"{'command':<62} {'median wall':>12} {'min':>9} {'peak RSS':>10}")
    medians = {}
    for name, samples in results.items():
        walls = [s[0] * 1000 for s in samples]
        rss = max(s[1] for s in samples)
        medians[name] = statistics.median(walls)
        print(f"{name:<62} {medians[name]:>9.1f} ms {min(walls):>6.1f} ms {rss:>7.1f} MiB")
    names = list(results)
    ratio = medians[names[0]] / medians[names[1]]
    print(f"\nwall-time ratio ours/theirs (same emulator): {ratio:.2f} (target: at most 0.50)"
          f" -> {'met' if ratio <= 0.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
