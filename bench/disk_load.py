#!/usr/bin/env python3
"""Load N keys into the disk engine, then measure random GET/SET against the memory engine.

    python bench/disk_load.py                         # 2,000,000 keys, 256 MB cache budget
    python bench/disk_load.py --keys 20000000 --no-memory
    python bench/disk_load.py --keys 200000 --requests 100000   # a quick run

Keys are ``key:%012d`` (what redis-benchmark's ``-r N`` produces), values 100 bytes of
random hex (they compress about 2:1).  Loading streams the SETs through ``redis-cli --pipe``.
For each engine the script reports the load time, the disk size, the server's RSS (peak
while loading and after), and redis-benchmark requests/second for GET and SET over random
existing keys with 50 clients, no pipelining: both servers stay up and the measurements
alternate between them (``--rounds``, medians reported), so machine noise hits both alike.
The disk engine is then restarted and timed to its first answered GET.  The server runs on CPU 0 and the clients on
CPU 1 when ``taskset`` is available (``--no-pin`` to let the server use every CPU).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def dir_bytes(path: str) -> int:
    total = 0
    for base, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(base, f))
            except OSError:
                pass
    return total


PIN = True


def _taskset(cpu: str) -> list:
    if not PIN or not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", cpu]


class Server:
    def __init__(self, engine: str, workdir: str, cache: str, sync: str):
        self.port = free_port()
        argv = _taskset("0") + [sys.executable, "-m", "emberkv", "--port", str(self.port),
                                "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
                                "--engine", engine]
        if engine == "disk":
            argv += ["--disk-cache-size", cache, "--disk-sync", sync]
        env = dict(os.environ, PYTHONPATH=ROOT)
        self.log = open(os.path.join(workdir, "server.log"), "wb")
        self.proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def cli(self, *args) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True).stdout

    def stop(self) -> None:
        self.cli("SHUTDOWN", "NOSAVE")
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.peak = max(self.peak, rss_bytes(self.pid))


def load(server: Server, n: int, value_size: int) -> float:
    """SET key:%012d for every key below n through redis-cli --pipe; returns seconds."""
    pipe = subprocess.Popen(_taskset("1") + ["redis-cli", "-p", str(server.port), "--pipe"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    t0 = time.time()
    chunk = 20000
    half = value_size // 2
    for start in range(0, n, chunk):
        parts = []
        randomness = os.urandom(half * min(chunk, n - start)).hex().encode()
        for i in range(start, min(n, start + chunk)):
            j = (i - start) * value_size
            parts.append(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n"
                         % (i, value_size, randomness[j:j + value_size]))
        pipe.stdin.write(b"".join(parts))
    pipe.stdin.close()
    out = pipe.stdout.read().decode(errors="replace")
    pipe.wait()
    seconds = time.time() - t0
    if "errors: 0" not in out:
        print(out, file=sys.stderr)
    return seconds


def settle(server: Server, limit: float = 300) -> float:
    """Wait until RocksDB has no compaction left to do (steady state); returns seconds waited."""
    t0 = time.time()
    while time.time() - t0 < limit:
        info = dict(line.strip().split(":", 1) for line in server.cli("INFO", "disk").splitlines()
                    if ":" in line)
        if info.get("disk_compaction_pending") == "0" and info.get("disk_running_compactions") == "0":
            break
        time.sleep(1)
    return time.time() - t0


def benchmark(server: Server, test: str, n: int, keys: int, requests: int) -> float:
    out = subprocess.run(_taskset("1") + [
        "redis-benchmark", "-p", str(server.port), "-c", "50", "-P", "1", "-n", str(requests),
        "-r", str(keys), "-d", "100", "-t", test, "--csv"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r'"([A-Z]+)","([0-9.]+)"', line)
        if m:
            return float(m.group(2))
    raise SystemExit("redis-benchmark gave no result:\n" + out)


class Run:
    """One engine's server with its dataset loaded (kept running for the alternating rounds)."""

    def __init__(self, engine: str, args):
        self.engine = engine
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="emberkv-bench-%s-" % engine, dir=args.dir)
        self.server = Server(engine, self.workdir, args.cache, args.sync)
        self.sampler = RssSampler(self.server.proc.pid)
        self.sampler.start()
        seconds = load(self.server, args.keys, args.value_size)
        self.res = {"engine": engine, "load_s": seconds, "load_rate": args.keys / seconds,
                    "get": [], "set": []}
        if engine == "disk":
            self.res["settle_s"] = settle(self.server)
        self.res["keys"] = int(self.server.cli("DBSIZE").strip() or 0)
        self.res["rss_after_load"] = rss_bytes(self.server.proc.pid)

    def measure(self, test: str) -> None:
        a = self.args
        self.res[test].append(benchmark(self.server, test, a.requests, a.keys, a.requests))

    def finish(self) -> dict:
        res, args = self.res, self.args
        res["rss_peak"] = max(self.sampler.peak, rss_bytes(self.server.proc.pid))
        res["rss_end"] = rss_bytes(self.server.proc.pid)
        self.sampler.stop.set()
        try:
            if self.engine == "disk":
                res["disk_bytes"] = dir_bytes(os.path.join(self.workdir, "emberkv-disk"))
                res["info_disk"] = self.server.cli("INFO", "disk")
                # A restart opens the store; nothing is loaded (time to the first answered GET).
                self.server.stop()
                t0 = time.time()
                self.server = Server(self.engine, self.workdir, args.cache, args.sync)
                got = self.server.cli("GET", "key:%012d" % (args.keys // 2)).strip()
                res["restart_s"] = time.time() - t0
                res["restart_ok"] = len(got) == args.value_size
                res["dbsize_after_restart"] = int(self.server.cli("DBSIZE").strip() or 0)
        finally:
            self.server.stop()
            if not args.keep:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return res


def median(xs: list) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--keys", type=int, default=2_000_000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--requests", type=int, default=200_000, help="per redis-benchmark test")
    ap.add_argument("--cache", default="256mb", help="disk-cache-size of the disk engine")
    ap.add_argument("--sync", default="everysec", choices=("always", "everysec", "no"))
    ap.add_argument("--no-memory", action="store_true", help="skip the memory engine run")
    ap.add_argument("--rounds", type=int, default=3,
                    help="GET/SET measurements per engine, alternating between the engines")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    ap.add_argument("--keep", action="store_true", help="keep the data directories")
    ap.add_argument("--no-pin", action="store_true",
                    help="no taskset (RocksDB's background threads then get the other CPU too)")
    args = ap.parse_args()
    global PIN
    PIN = not args.no_pin
    mb = 1 << 20
    runs = [Run("disk", args)]
    if not args.no_memory:
        runs.append(Run("memory", args))     # both stay up: the rounds alternate between them
    for _ in range(args.rounds):
        for test in ("get", "set"):
            for r in runs:
                r.measure(test)
    results = [r.finish() for r in runs]
    for r in results:
        print("%-6s keys=%d load=%.1fs (%.0f keys/s) rss_after_load=%.0fMB rss_peak=%.0fMB "
              "rss_end=%.0fMB GET=%.0f/s SET=%.0f/s (medians of %s / %s)%s" % (
                  r["engine"], r["keys"], r["load_s"], r["load_rate"], r["rss_after_load"] / mb,
                  r["rss_peak"] / mb, r["rss_end"] / mb, median(r["get"]), median(r["set"]),
                  " ".join("%.0f" % x for x in r["get"]), " ".join("%.0f" % x for x in r["set"]),
                  " disk=%.0fMB compactions_after_load=%.0fs restart=%.2fs (GET ok: %s, dbsize %d)"
                  % (r["disk_bytes"] / mb, r["settle_s"], r["restart_s"], r["restart_ok"],
                     r["dbsize_after_restart"])
                  if "disk_bytes" in r else ""))
    if len(results) == 2:
        d, m = results
        print("disk/memory: GET %.2fx  SET %.2fx" % (median(d["get"]) / median(m["get"]),
                                                     median(d["set"]) / median(m["set"])))
    print(results[0].get("info_disk", ""))


if __name__ == "__main__":
    main()
