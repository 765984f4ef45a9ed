#!/usr/bin/python3
"""Cost of recording an application metric from SQL, and from a trigger.

One throwaway PostgreSQL 15 cluster with pg_prom preloaded.  Two kinds of
measurement, each repeated --rounds times with the variants interleaved:

1. In-server loops (no client round trip): a DO block runs --calls
   iterations of one statement and reports nanoseconds per iteration;
   "PERFORM 1" is the baseline.  Variants: pg_prom_counter_inc without and
   with two labels, pg_prom_gauge_set, pg_prom_histogram_observe.
2. Triggers: pgbench transactions of one single-row INSERT into a table
   without trigger, with a trigger that does nothing, with a PL/pgSQL
   trigger calling pg_prom_counter_inc, with pg_prom_count_rows as the
   trigger function, and with a trigger updating a counter row
   (what applications do without pg_prom, for an exporter to read with a
   query); with 1 client (cost per row) and with --clients clients.
3. Concurrency: pgbench with --clients clients, every transaction one
   increment of the same series, against an UPDATE of one counter row
   (row-lock contention); and a check that no increment was lost.

Run as root (the server runs as the postgres OS user):
    /usr/bin/python3 bench/app_metrics_bench.py [--rounds 3]
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

LOOPS = [
    ("PERFORM 1 (baseline)", "PERFORM 1"),
    ("pg_prom_counter_inc, no labels", "PERFORM pg_prom_counter_inc('bench_a_total')"),
    ("pg_prom_counter_inc, 2 labels", "PERFORM pg_prom_counter_inc('bench_b_total', 'region', 'eu', 'channel', 'web')"),
    ("pg_prom_gauge_set", "PERFORM pg_prom_gauge_set('bench_gauge', i)"),
    ("pg_prom_histogram_observe", "PERFORM pg_prom_histogram_observe('bench_seconds', 0.001 * (i % 1000))"),
]

TRIGGERS = [
    ("no trigger", "t_plain"),
    ("empty trigger", "t_empty"),
    ("trigger: PL/pgSQL calling pg_prom_counter_inc", "t_prom"),
    ("trigger: pg_prom_count_rows", "t_count"),
    ("trigger: UPDATE counter row", "t_update"),
]

SETUP = """
CREATE EXTENSION pg_prom;
CREATE TABLE bench_counters (id int PRIMARY KEY, n bigint);
INSERT INTO bench_counters VALUES (1, 0), (2, 0);
CREATE FUNCTION trg_empty() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION trg_prom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_prom_counter_inc('bench_rows_total', 'region', NEW.region); RETURN NEW; END $$;
CREATE FUNCTION trg_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE bench_counters SET n = n + 1 WHERE id = 2; RETURN NEW; END $$;
CREATE TABLE t_plain (id int, region text);
CREATE TABLE t_empty (id int, region text);
CREATE TABLE t_prom (id int, region text);
CREATE TABLE t_update (id int, region text);
CREATE TABLE t_count (id int, region text);
CREATE TRIGGER t AFTER INSERT ON t_count FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('bench_counted_total', 'region');
CREATE TRIGGER t AFTER INSERT ON t_empty FOR EACH ROW EXECUTE FUNCTION trg_empty();
CREATE TRIGGER t AFTER INSERT ON t_prom FOR EACH ROW EXECUTE FUNCTION trg_prom();
CREATE TRIGGER t AFTER INSERT ON t_update FOR EACH ROW EXECUTE FUNCTION trg_update();
"""


def as_postgres(cmd, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pg_prom-app-bench.")
    shutil.chown(work, "postgres", "postgres")
    data = os.path.join(work, "data")
    port = 55431
    psql = [f"{PG_BIN}/psql", "-X", "-q", "-h", work, "-p", str(port), "-d", "postgres",
            "-v", "ON_ERROR_STOP=1"]
    try:
        as_postgres([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                    stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{work}'\n"
                    "shared_preload_libraries = 'pg_prom'\npg_prom.listen_addresses = '127.0.0.1'\n"
                    "pg_prom.port = 55432\nshared_buffers = '256MB'\nsynchronous_commit = off\n")
        as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(work, "log"), "-w", "start"],
                    stdout=subprocess.DEVNULL)
        as_postgres(psql + ["-c", SETUP], stdout=subprocess.DEVNULL)

        def notice_ns(body):
            sql = ("DO $$ DECLARE t0 timestamptz; t1 timestamptz; BEGIN t0 := clock_timestamp(); "
                   f"FOR i IN 1..{args.calls} LOOP {body}; END LOOP; t1 := clock_timestamp(); "
                   "RAISE NOTICE 'ns=%', extract(epoch FROM t1 - t0) * 1e9; END $$;")
            err = as_postgres(psql + ["-c", sql], capture_output=True, text=True).stderr
            return float(re.search(r"ns=([0-9.e+]+)", err).group(1)) / args.calls

        def pgbench_tps(sql, clients):
            path = os.path.join(work, "script.sql")
            with open(path, "w") as f:
                f.write(sql + "\n")
            shutil.chown(path, "postgres", "postgres")
            out = as_postgres([f"{PG_BIN}/pgbench", "-h", work, "-p", str(port), "-n", "-c", str(clients),
                               "-j", str(min(clients, 2)), "-T", str(args.seconds), "-f", path, "postgres"],
                              capture_output=True, text=True).stdout
            return (float(re.search(r"tps = ([0-9.]+) \(without", out).group(1)),
                    int(re.search(r"number of transactions actually processed: (\d+)", out).group(1)))

        loops = {name: [] for name, _ in LOOPS}
        trig = {(name, c): [] for name, _ in TRIGGERS for c in (1, args.clients)}
        for rnd in range(args.rounds):
            order = LOOPS if rnd % 2 == 0 else list(reversed(LOOPS))
            for name, body in order:
                loops[name].append(notice_ns(body))
                print(f"round {rnd + 1} {name}: {loops[name][-1]:.0f} ns", file=sys.stderr)
            order = TRIGGERS if rnd % 2 == 0 else list(reversed(TRIGGERS))
            for name, table in order:
                for clients in (1, args.clients):
                    tps, _ = pgbench_tps(f"INSERT INTO {table} VALUES (1, 'eu');", clients)
                    trig[(name, clients)].append(tps)
                    print(f"round {rnd + 1} {name} x{clients}: {tps:.0f} tps", file=sys.stderr)

        conc = {"pg_prom_counter_inc, one series": [], "UPDATE one counter row": []}
        before = as_postgres(psql + ["-At", "-c",
                                     "SELECT coalesce(sum(value), 0) FROM pg_prom_app_metrics() "
                                     "WHERE metric_name = 'bench_concurrent_total'"],
                             capture_output=True, text=True).stdout.strip()
        done = 0
        for rnd in range(args.rounds):
            for name, sql in (("pg_prom_counter_inc, one series", "SELECT pg_prom_counter_inc('bench_concurrent_total');"),
                              ("UPDATE one counter row", "UPDATE bench_counters SET n = n + 1 WHERE id = 1;")):
                tps, n = pgbench_tps(sql, args.clients)
                conc[name].append(tps)
                if name.startswith("pg_prom"):
                    done += n
                print(f"round {rnd + 1} {name}: {tps:.0f} tps", file=sys.stderr)
        after = as_postgres(psql + ["-At", "-c",
                                    "SELECT sum(value) FROM pg_prom_app_metrics() "
                                    "WHERE metric_name = 'bench_concurrent_total'"],
                            capture_output=True, text=True).stdout.strip()

        base = statistics.median(loops["PERFORM 1 (baseline)"])
        print(f"Setup: PostgreSQL 15, pg_prom preloaded, {args.rounds} rounds (median), "
              f"{args.calls} calls per loop, {args.clients} pgbench clients, synchronous_commit = off.\n")
        print("| in-server loop (no client round trip) | ns per iteration | minus baseline |")
        print("|---|---:|---:|")
        for name, _ in LOOPS:
            med = statistics.median(loops[name])
            print(f"| {name} | {med:.0f} | {med - base:.0f} |")
        print(f"\n| one-row INSERT per transaction (pgbench, {args.seconds} s) | tps, 1 client | µs per row | minus no trigger | tps, {args.clients} clients |")
        print("|---|---:|---:|---:|---:|")
        plain_us = 1e6 / statistics.median(trig[("no trigger", 1)])
        for name, _ in TRIGGERS:
            t1 = statistics.median(trig[(name, 1)])
            tn = statistics.median(trig[(name, args.clients)])
            print(f"| {name} | {t1:.0f} | {1e6 / t1:.1f} | {1e6 / t1 - plain_us:+.1f} | {tn:.0f} |")
        print(f"\n| {args.clients} sessions at once, {args.seconds} s | transactions/s |")
        print("|---|---:|")
        for name in conc:
            print(f"| {name} | {statistics.median(conc[name]):.0f} |")
        print(f"\nIncrements counted by pgbench: {done}; counter moved by {float(after) - float(before):.0f} "
              f"(equal: {float(after) - float(before) == done}).")
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast",
                        "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
