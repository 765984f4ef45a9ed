#!/usr/bin/python3
"""Scrape storm: many scrapers at once, pg_prom against postgres_exporter.

The cluster of scrape_bench.py (PostgreSQL 15, 1000 tables, 50 idle
connections, Debian's postgres_exporter 0.11.1 on the same cluster).  For
each target, ApacheBench (`ab`, Debian's apache2-utils) runs 20 concurrent
keep-alive scrapers for 30 s; meanwhile a probe asks pg_prom's /health every
100 ms.  Reported: requests per second, latency percentiles, failures, the
server's CPU per second of storm (the postmaster, every child, reaped
backends, and the exporter for its target; ab's own CPU is not counted) and
per request, and /health's latency during the storm.

pg_prom targets: the same families as postgres_exporter 0.11.1's defaults
with pg_prom.min_scrape_interval = 0 (concurrent scrapes share a
collection, nothing more), with min_scrape_interval = 1s (scrapes within a
second of a collection get its text), and pg_prom's whole default set.

Run as root (it starts the server as the postgres OS user):
    /usr/bin/python3 bench/storm_bench.py [--clients 20] [--seconds 30]
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import argparse
import re
import resource
import subprocess
import sys
import threading
import time

from benchlib import Bench, PE_SET, ensure_package, pct, scrape


def health_probe(port, stop, out):
    while not stop.is_set():
        try:
            out.append(scrape(port, "/health", timeout=10)[0])
        except Exception:
            out.append(float("inf"))
        stop.wait(0.1)


def parse_ab(text):
    def num(pattern, default=0.0):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else default
    perc = {int(p): float(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\d+)", text, re.M)}
    return {
        "rps": num(r"^Requests per second:\s+([\d.]+)"),
        "done": int(num(r"^Complete requests:\s+(\d+)")),
        "failed": int(num(r"^Failed requests:\s+(\d+)")),
        "non2xx": int(num(r"^Non-2xx responses:\s+(\d+)")),
        "p50": perc.get(50, float("nan")),
        "p99": perc.get(99, float("nan")),
        "max": perc.get(100, float("nan")),
    }


def storm(bench, port, exporter, clients, seconds):
    stop = threading.Event()
    health = []
    probe = threading.Thread(target=health_probe, args=(bench.promport, stop, health))
    cpu0 = bench.cpu(exporter)
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    probe.start()
    t0 = time.time()
    # -l: responses differ in length (values change); -s: per-request timeout
    ab = subprocess.run(["ab", "-q", "-k", "-l", "-s", "60", "-c", str(clients), "-t", str(seconds),
                         "-n", "10000000", f"http://127.0.0.1:{port}/metrics"],
                        capture_output=True, text=True, timeout=seconds + 120)
    elapsed = time.time() - t0
    stop.set()
    probe.join()
    cpu1 = bench.cpu(exporter)
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = parse_ab(ab.stdout)
    r["server_cpu_per_s"] = (cpu1 - cpu0) / elapsed
    r["server_cpu_per_req_ms"] = 1000 * (cpu1 - cpu0) / max(r["done"], 1)
    r["ab_cpu_per_s"] = ((child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)) / elapsed
    r["health_p99_ms"] = 1000 * pct(health, 99) if health else float("nan")
    r["health_max_ms"] = 1000 * max(health) if health else float("nan")
    if ab.returncode != 0:
        print(ab.stdout, ab.stderr, file=sys.stderr)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--idle", type=int, default=50)
    args = ap.parse_args()
    ensure_package("/usr/bin/ab", "apache2-utils")

    bench = Bench(tables=args.tables, idle=args.idle)
    try:
        bench.start()
        targets = [
            ("postgres_exporter 0.11.1", bench.peport, None),
            ("pg_prom, same families, min_scrape_interval 0 (shared collections only)", bench.promport,
             {"collectors": PE_SET, "min_scrape_interval": "0"}),
            ("pg_prom, same families, min_scrape_interval 1s", bench.promport,
             {"collectors": PE_SET, "min_scrape_interval": "1s"}),
            ("pg_prom, its whole default set, min_scrape_interval 0", bench.promport,
             {"collectors": "default", "min_scrape_interval": "0"}),
        ]
        results = []
        for name, port, settings in targets:
            if settings:
                bench.configure(**settings)
            scrape(port)  # warm up
            print(f"storm: {name} ...", file=sys.stderr)
            results.append((name, storm(bench, port, port == bench.peport, args.clients, args.seconds)))

        print(f"Setup: PostgreSQL 15, {args.tables} tables, {args.idle} idle connections; "
              f"ab -k -c {args.clients} for {args.seconds} s per target; /health probed every 100 ms.\n")
        print("| target | requests/s | p50 | p99 | max | failed / non-2xx | server CPU per s of storm "
              "| server CPU per request | /health p99 (max) during the storm |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, r in results:
            print(f"| {name} | {r['rps']:.0f} | {r['p50']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms "
                  f"| {r['failed']} / {r['non2xx']} | {r['server_cpu_per_s']:.2f} s "
                  f"| {r['server_cpu_per_req_ms']:.3f} ms | {r['health_p99_ms']:.1f} ms "
                  f"({r['health_max_ms']:.1f} ms) |")
        print(f"\n(ab's own CPU, not counted above: "
              + ", ".join(f"{r['ab_cpu_per_s']:.2f} s/s" for _, r in results) + ")")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
