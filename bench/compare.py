#!/usr/bin/env python3
"""Run redis-benchmark against EmberKV and real Redis in one run and print ratios.

Each server is pinned to CPU 0 and redis-benchmark to CPU 1 (taskset). For every
test the script reports requests/second of both servers, the ratio EmberKV/Redis,
and each server's CPU time per request (utime+stime from /proc/PID/stat, read
around the redis-benchmark call), as medians over --repeat runs that alternate
between the servers.

    python bench/compare.py                       # the foundation suite
    python bench/compare.py --tests lpush,rpush --pipeline 1 --repeat 5
    python bench/compare.py --custom "XADD s * f v" --custom "PFADD hll __rand_int__"
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server on port %d did not start" % port)


def start(kind: str, cpu: str, workdir: str, extra: list[str]):
    port = free_port()
    if kind == "redis":
        argv = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", workdir]
    else:
        argv = [sys.executable, "-m", "emberkv", "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--dir", workdir] + extra
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    wait_port(port)
    return proc, port


def bench(port: int, pid: int, args: list[str], n: int, cpu: str) -> tuple[float, float]:
    """Returns (requests per second, server CPU microseconds per request)."""
    subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], stdout=subprocess.DEVNULL)
    t0 = cpu_seconds(pid)
    out = subprocess.run(["taskset", "-c", cpu, "redis-benchmark", "-p", str(port), "-n", str(n),
                          "--csv"] + args, capture_output=True, text=True, timeout=900).stdout
    t1 = cpu_seconds(pid)
    rps = 0.0
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split('","')]
        if len(parts) >= 2 and parts[0] != "test" and "needed to benchmark" not in parts[0]:
            try:
                rps = float(parts[1])
            except ValueError:
                pass
    return rps, (t1 - t0) * 1e6 / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", default="set,get,incr,mset")
    ap.add_argument("--custom", action="append", default=[], help="a custom command line to benchmark")
    ap.add_argument("--pipeline", default="1,16", help="comma-separated -P values")
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("-c", type=int, default=50)
    ap.add_argument("-r", type=int, default=100000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--ember-args", default="", help="extra EmberKV flags, e.g. '--engine disk'")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    opts = ap.parse_args()
    for tool in ("redis-server", "redis-benchmark", "redis-cli", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit("%s is required (apt-get install redis-server redis-tools util-linux)" % tool)
    work = tempfile.mkdtemp(prefix="emberkv-bench-")
    servers = {}
    try:
        os.makedirs(os.path.join(work, "r"))
        os.makedirs(os.path.join(work, "e"))
        servers["redis"] = start("redis", opts.server_cpu, os.path.join(work, "r"), [])
        servers["emberkv"] = start("emberkv", opts.server_cpu, os.path.join(work, "e"), opts.ember_args.split())
        time.sleep(1.0)
        rss = {}
        for name, (proc, port) in servers.items():
            with open("/proc/%d/status" % proc.pid) as fh:
                rss[name] = next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024
        cases = []
        for p in opts.pipeline.split(","):
            for t in opts.tests.split(","):
                if t:
                    cases.append(("%s%s" % (t.upper(), "" if p == "1" else " P%s" % p),
                                  ["-t", t, "-P", p, "-c", str(opts.c), "-r", str(opts.r)]))
            for cmd in opts.custom:
                cases.append(("%s%s" % (cmd.split()[0].upper(), "" if p == "1" else " P%s" % p),
                              ["-P", p, "-c", str(opts.c), "-r", str(opts.r)] + cmd.split()))
        rows = []
        for label, args in cases:
            res = {"redis": [], "emberkv": []}
            for _ in range(opts.repeat):
                for name in ("redis", "emberkv"):
                    proc, port = servers[name]
                    res[name].append(bench(port, proc.pid, args, opts.n, opts.client_cpu))
            med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
                   for k, v in res.items()}
            ratio = med["emberkv"][0] / med["redis"][0] if med["redis"][0] else 0.0
            cpu_ratio = med["emberkv"][1] / med["redis"][1] if med["redis"][1] else 0.0
            rows.append((label, med["redis"][0], med["emberkv"][0], ratio, med["redis"][1],
                         med["emberkv"][1], cpu_ratio))
            print("%-18s redis %9.0f rps  emberkv %9.0f rps  ratio %.2f   cpu/req redis %.2fus emberkv %.2fus (x%.2f)"
                  % rows[-1], flush=True)
        print()
        print("idle RSS: redis %.1f MB, emberkv %.1f MB" % (rss["redis"], rss["emberkv"]))
        if opts.markdown:
            print()
            print("| test | Redis rps | EmberKV rps | ratio | Redis CPU/req | EmberKV CPU/req | CPU ratio |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for r in rows:
                print("| %s | %.0f | %.0f | %.2f | %.2f µs | %.2f µs | %.2f |" % r)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
