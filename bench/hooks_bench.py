#!/usr/bin/python3
"""A/B benchmark of pg_prom's hooks: pgbench throughput with pg_prom preloaded
(all hooks on: statement and transaction histograms, errors, auth) against
the same cluster without pg_prom, in alternating rounds.

One throwaway PostgreSQL 15 cluster (pgbench scale 10, Unix socket); for
each round and each mode the server is restarted with or without
shared_preload_libraries = 'pg_prom', then pgbench runs -S (select-only)
and -N (simple update) for --seconds each with --clients clients.

Run as root (the server runs as the postgres OS user):
    /usr/bin/python3 bench/hooks_bench.py [--rounds 5] [--seconds 15]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


def as_postgres(cmd, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pg_prom-hooks-bench.")
    shutil.chown(work, "postgres", "postgres")
    data = os.path.join(work, "data")
    port = 55421
    conf = os.path.join(data, "postgresql.conf")
    try:
        as_postgres([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                    stdout=subprocess.DEVNULL)
        with open(conf, "a") as f:
            f.write(f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{work}'\n"
                    "shared_buffers = '256MB'\npg_prom.listen_addresses = '127.0.0.1'\n"
                    "pg_prom.port = 55422\n")
        base = open(conf).read()

        def start(with_prom):
            with open(conf, "w") as f:
                f.write(base + ("shared_preload_libraries = 'pg_prom'\n" if with_prom else ""))
            as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(work, "log"), "-w", "start"],
                        stdout=subprocess.DEVNULL)

        def stop():
            as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)

        pgbench = [f"{PG_BIN}/pgbench", "-h", work, "-p", str(port)]
        start(False)
        as_postgres(pgbench + ["-i", "-q", "-s", "10", "postgres"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
        stop()

        tps = {(mode, wl): [] for mode in ("with pg_prom", "without") for wl in ("-S", "-N")}
        for rnd in range(args.rounds):
            modes = ["with pg_prom", "without"] if rnd % 2 == 0 else ["without", "with pg_prom"]
            for mode in modes:
                start(mode == "with pg_prom")
                for wl in ("-S", "-N"):
                    out = as_postgres(pgbench + [wl, "-n", "-c", str(args.clients), "-j", "2",
                                                 "-T", str(args.seconds), "postgres"],
                                      capture_output=True, text=True).stdout
                    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
                    tps[(mode, wl)].append(float(m.group(1)))
                    print(f"round {rnd + 1} {mode} {wl}: {float(m.group(1)):.0f} tps", file=sys.stderr)
                stop()

        print(f"Setup: PostgreSQL 15, pgbench scale 10, {args.clients} clients, 2 threads, "
              f"{args.seconds} s per run, {args.rounds} alternating rounds.\n")
        print("| workload | TPS with pg_prom (mean ± sd) | TPS without (mean ± sd) | ratio |")
        print("|---|---|---|---|")
        for wl, name in (("-S", "pgbench -S (select only)"), ("-N", "pgbench -N (simple update)")):
            a = tps[("with pg_prom", wl)]
            b = tps[("without", wl)]
            print(f"| {name} | {statistics.mean(a):.0f} ± {statistics.stdev(a):.0f} "
                  f"| {statistics.mean(b):.0f} ± {statistics.stdev(b):.0f} "
                  f"| {statistics.mean(a) / statistics.mean(b):.3f} |")
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
