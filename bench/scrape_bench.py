#!/usr/bin/python3
"""Side-by-side scrape benchmark: pg_prom against postgres_exporter.

One throwaway PostgreSQL 15 cluster with pg_prom preloaded, 1000 tables
(in the postgres database, which both exporters connect to) and 50 idle
client connections; Debian's prometheus-postgres-exporter
(0.11.1, default flags) scrapes the same cluster.  Both endpoints are
scraped sequentially, in alternating rounds, and the script reports per
scrape: latency p50/p99, CPU summed over every process involved (the
exporter and all PostgreSQL processes, including backends that exited,
through the postmaster's reaped-children times), response bytes and
series.  pg_prom is measured twice: with its default slow tier (database
sizes recomputed every pg_prom.slow_collector_interval = 60 s) and with
every family recomputed on every scrape (interval 0).

With --per-table, the per-table comparison instead: 10,000 tables with two
indexes each in the database both exporters read, postgres_exporter with
the per-table queries of its own example queries.yaml (pg_stat_user_tables
and pg_statio_user_tables, from the Debian package's examples) added to its
defaults; pg_prom with the same families (every table with its own series)
and with its defaults (pg_prom.max_tables).  --databases 3 adds two more
databases of as many tables, which pg_prom reads too; the collector's memory
(RSS) is reported.

Run as root (it starts the server as the postgres OS user):
    /usr/bin/python3 bench/scrape_bench.py [--scrapes 200] [--rounds 3]
    /usr/bin/python3 bench/scrape_bench.py --per-table [--tables 10000] [--databases 3]
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile

import yaml

from benchlib import Bench, PE_SET, pct, rss_bytes, scrape, series_of

EXAMPLES = "/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml"


def per_table_queries():
    """postgres_exporter's own example per-table queries, as a file."""
    path = EXAMPLES if os.path.exists(EXAMPLES) else EXAMPLES + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        queries = yaml.safe_load(f)
    chosen = {k: queries[k] for k in ("pg_stat_user_tables", "pg_statio_user_tables")}
    fd, out = tempfile.mkstemp(prefix="pg_prom-bench-queries.", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(chosen, f)
    os.chmod(out, 0o644)
    return out


def measure(bench, targets, rounds, scrapes):
    results = {name: {"lat": [], "cpu": 0.0, "n": 0, "bytes": 0, "series": 0, "rss": 0} for name in targets}
    for rnd in range(rounds):
        for name, (port, settings) in targets.items():
            if settings:
                bench.configure(**settings)
            scrape(port, timeout=120)  # warm up: connections, plans, caches
            exporter = port == bench.peport
            cpu0 = bench.cpu(exporter)
            for _ in range(scrapes):
                elapsed, body = scrape(port, timeout=120)
                results[name]["lat"].append(elapsed)
            cpu1 = bench.cpu(exporter)
            r = results[name]
            r["cpu"] += cpu1 - cpu0
            r["n"] += scrapes
            r["bytes"] = len(body)
            r["series"] = series_of(body)
            r["rss"] = max(r["rss"], rss_bytes(bench.pe_pid if exporter else bench.collector_pid()))
            print(f"round {rnd + 1}: {name}: {1000 * (cpu1 - cpu0) / scrapes:.2f} ms CPU/scrape",
                  file=sys.stderr)
    return results


def report(results, base_name, rss=False):
    base = results[base_name]
    base_cpu = base["cpu"] / base["n"]
    print("| target | p50 latency | p99 latency | CPU per scrape | CPU vs postgres_exporter | bytes | series |"
          + (" RSS of the collecting process |" if rss else ""))
    print("|---|---|---|---|---|---|---|" + ("---|" if rss else ""))
    for name, r in results.items():
        cpu = r["cpu"] / r["n"]
        ratio = base_cpu / cpu if cpu > 0 else float("inf")
        print(f"| {name} | {1000 * pct(r['lat'], 50):.2f} ms | {1000 * pct(r['lat'], 99):.2f} ms "
              f"| {1000 * cpu:.3f} ms | {ratio:.1f}x less | {r['bytes']} | {r['series']} |"
              + (f" {r['rss'] / 1048576:.0f} MB |" if rss else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrapes", type=int, default=None, help="scrapes per round and target")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tables", type=int, default=None)
    ap.add_argument("--idle", type=int, default=50)
    ap.add_argument("--per-table", action="store_true")
    ap.add_argument("--databases", type=int, default=1)
    args = ap.parse_args()

    if not args.per_table:
        args.scrapes = args.scrapes or 200
        args.tables = args.tables or 1000
        bench = Bench(tables=args.tables, idle=args.idle)
        try:
            bench.start()
            targets = {
                "postgres_exporter 0.11.1": (bench.peport, None),
                "pg_prom, same families (sizes every 60 s)": (
                    bench.promport, {"slow_collector_interval": 60, "collectors": PE_SET}),
                "pg_prom, same families less the process collector (the 2026-11-27 set)": (
                    bench.promport, {"slow_collector_interval": 60, "collectors": PE_SET + ", -process"}),
                "pg_prom, same families, everything every scrape": (
                    bench.promport, {"slow_collector_interval": 0, "collectors": PE_SET}),
                "pg_prom, all its default families incl. per-table (sizes every 60 s)": (
                    bench.promport, {"slow_collector_interval": 60, "collectors": "default"}),
            }
            results = measure(bench, targets, args.rounds, args.scrapes)
            print(f"Setup: PostgreSQL 15, {args.tables} tables, {args.idle} idle connections; "
                  f"{args.rounds} alternating rounds x {args.scrapes} sequential scrapes per target.\n")
            report(results, "postgres_exporter 0.11.1")
        finally:
            bench.stop()
        return

    # the per-table comparison
    args.scrapes = args.scrapes or 10
    args.tables = args.tables or 10000
    from benchlib import ensure_package
    ensure_package("/usr/bin/prometheus-postgres-exporter", "prometheus-postgres-exporter")
    queries = per_table_queries()
    bench = Bench(tables=args.tables, idle=args.idle, indexes=2, databases=args.databases,
                  exporter_args=[f"--extend.query-path={queries}"],
                  conf="pg_prom.other_databases_interval = 60\n")
    try:
        bench.start()
        same = PE_SET.replace("-stat_user_tables, -statio_user_tables, ", "")
        targets = {
            "postgres_exporter 0.11.1 + queries.yaml per-table queries": (bench.peport, None),
            "pg_prom, the same families, every table its own series": (
                bench.promport, {"collectors": same, "max_tables": 1000000}),
            "pg_prom, its default collectors (pg_prom.max_tables 1000, indexes too)": (
                bench.promport, {"collectors": "default", "max_tables": 1000}),
        }
        results = measure(bench, targets, args.rounds, args.scrapes)
        print(f"Setup: PostgreSQL 15, {args.tables} tables with 2 indexes each in the database both read"
              + (f", {args.databases - 1} more databases of {args.tables} tables (pg_prom reads them too)"
                 if args.databases > 1 else "")
              + f", {args.idle} idle connections; {args.rounds} alternating rounds x {args.scrapes}"
              " sequential scrapes per target.\n")
        report(results, "postgres_exporter 0.11.1 + queries.yaml per-table queries", rss=True)
    finally:
        bench.stop()
        os.unlink(queries)


if __name__ == "__main__":
    main()
