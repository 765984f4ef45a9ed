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

Run as root (it starts the server as the postgres OS user):
    /usr/bin/python3 bench/scrape_bench.py [--scrapes 200] [--rounds 3]
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def as_postgres(cmd, **kw):
    return sh(["runuser", "-u", "postgres", "--"] + cmd, **kw)


def proc_times(pid):
    """(own cpu, reaped children cpu) of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK


def cluster_cpu(postmaster_pid, extra_pids=()):
    """CPU seconds of the postmaster, its live children, the children it
    reaped, and any extra process (the exporter)."""
    total = 0.0
    own, reaped = proc_times(postmaster_pid)
    total += own + reaped
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == postmaster_pid:
                total += proc_times(int(entry))[0]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    for pid in extra_pids:
        total += sum(proc_times(pid))
    return total


def scrape(port, path="/metrics"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Connection": "close"})
    resp = conn.getresponse()
    body = resp.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"port {port}: HTTP {resp.status}")
    return elapsed, body


def series_of(body):
    return sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))


def wait_http(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            scrape(port)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on {port}")


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrapes", type=int, default=200, help="scrapes per round and target")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--idle", type=int, default=50)
    args = ap.parse_args()

    if not os.path.exists("/usr/bin/prometheus-postgres-exporter"):
        sh(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
        sh(["apt-get", "install", "-y", "-qq", "prometheus-postgres-exporter"], stdout=subprocess.DEVNULL)
        # Debian starts nothing here, but make sure its service is not running
        subprocess.run(["service", "prometheus-postgres-exporter", "stop"], capture_output=True)

    work = tempfile.mkdtemp(prefix="pg_prom-bench.")
    shutil.chown(work, "postgres", "postgres")
    data = os.path.join(work, "data")
    pgport, promport, peport = 55411, 55412, 55413
    procs = []
    try:
        as_postgres([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                    stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(f"""
listen_addresses = ''
port = {pgport}
unix_socket_directories = '{work}'
max_connections = 200
shared_preload_libraries = 'pg_prom'
pg_prom.listen_addresses = '127.0.0.1'
pg_prom.port = {promport}
""")
        as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(work, "log"), "-w", "start"],
                    stdout=subprocess.DEVNULL)
        psql = [f"{PG_BIN}/psql", "-h", work, "-p", str(pgport), "-qX", "-v", "ON_ERROR_STOP=1"]
        as_postgres(psql + ["-d", "postgres", "-c", "CREATE DATABASE bench"])
        # the tables live in the database both exporters connect to
        as_postgres(psql + ["-d", "postgres"], stdout=subprocess.DEVNULL,
                    input=f"SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', g)"
                          f" FROM generate_series(1, {args.tables}) g \\gexec\n".encode())
        with open(os.path.join(work, "idle.sql"), "w") as f:
            f.write("\\sleep 3600 s\n")
        shutil.chown(os.path.join(work, "idle.sql"), "postgres", "postgres")
        idle = subprocess.Popen(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pgbench", "-n",
                                 "-h", work, "-p", str(pgport), "-c", str(args.idle), "-j", "1",
                                 "-T", "3600", "-f", os.path.join(work, "idle.sql"), "bench"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(idle)

        env = dict(os.environ,
                   DATA_SOURCE_NAME=f"host={work} port={pgport} user=postgres dbname=postgres sslmode=disable")
        pe = subprocess.Popen(["runuser", "-u", "postgres", "--", "/usr/bin/prometheus-postgres-exporter",
                               f"--web.listen-address=127.0.0.1:{peport}", "--log.level=error"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(pe)
        wait_http(promport)
        wait_http(peport)
        time.sleep(2)
        pe_pid = int(subprocess.check_output(["pgrep", "-P", str(pe.pid)]).split()[0]) \
            if subprocess.run(["pgrep", "-P", str(pe.pid)], capture_output=True).returncode == 0 else pe.pid
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())

        def configure(interval, collectors):
            as_postgres(psql + ["-d", "postgres", "-c",
                                f"ALTER SYSTEM SET pg_prom.slow_collector_interval = {interval}",
                                "-c", f"ALTER SYSTEM SET pg_prom.collectors = '{collectors}'",
                                "-c", "SELECT pg_reload_conf()"], stdout=subprocess.DEVNULL)
            time.sleep(0.5)

        # postgres_exporter 0.11.1's default families: database, bgwriter and
        # its legacy maps (activity, locks, settings, stat_database, archiver,
        # replication slots, stat_replication).  pg_prom's defaults are a
        # superset (replication, roles, wal, vacuum progress, per-table, and
        # the hook-fed and connection families no external exporter has).
        pe_set = ("default, -replication, -roles, -wal, -stat_progress_vacuum,"
                  " -stat_user_tables, -statio_user_tables, -table_sizes, -statements,"
                  " -errors, -auth, -connections, -stat_statements")
        targets = {
            "postgres_exporter 0.11.1": (peport, None, None),
            "pg_prom, same families (sizes every 60 s)": (promport, 60, pe_set),
            "pg_prom, same families, everything every scrape": (promport, 0, pe_set),
            "pg_prom, all its default families incl. per-table (sizes every 60 s)": (promport, 60, "default"),
        }
        results = {name: {"lat": [], "cpu": 0.0, "n": 0, "bytes": 0, "series": 0} for name in targets}
        for rnd in range(args.rounds):
            for name, (port, interval, collectors) in targets.items():
                if interval is not None:
                    configure(interval, collectors)
                scrape(port)  # warm up: connections, plans, caches
                extra = [pe_pid] if port == peport else []
                cpu0 = cluster_cpu(postmaster, extra)
                for _ in range(args.scrapes):
                    elapsed, body = scrape(port)
                    results[name]["lat"].append(elapsed)
                cpu1 = cluster_cpu(postmaster, extra)
                r = results[name]
                r["cpu"] += cpu1 - cpu0
                r["n"] += args.scrapes
                r["bytes"] = len(body)
                r["series"] = series_of(body)
                print(f"round {rnd + 1}: {name}: {1000 * (cpu1 - cpu0) / args.scrapes:.2f} ms CPU/scrape",
                      file=sys.stderr)

        base = results["postgres_exporter 0.11.1"]
        base_cpu = base["cpu"] / base["n"]
        print(f"Setup: PostgreSQL 15, {args.tables} tables, {args.idle} idle connections; "
              f"{args.rounds} alternating rounds x {args.scrapes} sequential scrapes per target.\n")
        print("| target | p50 latency | p99 latency | CPU per scrape | CPU vs postgres_exporter | bytes | series |")
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            cpu = r["cpu"] / r["n"]
            ratio = base_cpu / cpu if cpu > 0 else float("inf")
            print(f"| {name} | {1000 * pct(r['lat'], 50):.2f} ms | {1000 * pct(r['lat'], 99):.2f} ms "
                  f"| {1000 * cpu:.3f} ms | {ratio:.1f}x less | {r['bytes']} | {r['series']} |")
    finally:
        for p in procs:
            try:
                os.killpg(os.getpgid(p.pid), 0)
            except Exception:
                pass
            subprocess.run(["pkill", "-TERM", "-P", str(p.pid)], capture_output=True)
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
