"""What pg_prom's benchmarks share: a throwaway PostgreSQL 15 cluster with
pg_prom preloaded, N tables and idle client connections, Debian's
postgres_exporter scraping the same cluster, CPU accounting over every
process involved, and small helpers.

Everything listens on 127.0.0.1 (or a Unix socket in the cluster's
directory) and Bench.stop() ends exactly the processes it started.
Run the benchmarks as root: the server runs as the postgres OS user.
"""
import http.client
import os
import shutil
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# postgres_exporter 0.11.1's default families, as pg_prom.collectors:
# database, bgwriter and its legacy maps (activity, locks, settings,
# stat_database, archiver, replication slots, stat_replication).  pg_prom's
# defaults are a superset (replication, roles, wal, vacuum progress,
# per-table, and the hook-fed and connection families no external exporter
# has).
PE_SET = ("default, -replication, -roles, -wal, -stat_progress_vacuum,"
          " -stat_user_tables, -statio_user_tables, -table_sizes, -stat_user_indexes, -statements,"
          " -errors, -auth, -connections, -stat_statements, -stat_wal, -stat_io, -stat_lock, -subscription, -stat_recovery")


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


def scrape(port, path="/metrics", timeout=30):
    """One GET on a new connection: (seconds, body).  Raises unless 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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


def ensure_package(binary, package):
    if not os.path.exists(binary):
        sh(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
        sh(["apt-get", "install", "-y", "-qq", package], stdout=subprocess.DEVNULL)


class Bench:
    """The cluster (and optionally postgres_exporter) of one benchmark run.

    Ports: PostgreSQL on a Unix socket only (pgport), pg_prom on
    127.0.0.1:promport, postgres_exporter on 127.0.0.1:peport."""

    def __init__(self, tables=1000, idle=50, exporter=True, conf="",
                 pgport=55411, promport=55412, peport=55413, nofile=None,
                 indexes=1, databases=1, exporter_args=()):
        self.tables, self.idle, self.exporter = tables, idle, exporter
        self.indexes, self.databases, self.exporter_args = indexes, databases, list(exporter_args)
        self.pgport, self.promport, self.peport = pgport, promport, peport
        self.conf, self.nofile = conf, nofile
        self.procs = []
        self.work = tempfile.mkdtemp(prefix="pg_prom-bench.")
        shutil.chown(self.work, "postgres", "postgres")
        self.data = os.path.join(self.work, "data")
        self.psql = [f"{PG_BIN}/psql", "-h", self.work, "-p", str(pgport), "-qX",
                     "-v", "ON_ERROR_STOP=1"]
        self.postmaster = None
        self.pe_pid = None

    def start(self):
        if self.exporter:
            ensure_package("/usr/bin/prometheus-postgres-exporter", "prometheus-postgres-exporter")
            # Debian starts nothing here, but make sure its service is not running
            subprocess.run(["service", "prometheus-postgres-exporter", "stop"], capture_output=True)
        as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"],
                    stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"""
listen_addresses = ''
port = {self.pgport}
unix_socket_directories = '{self.work}'
max_connections = 200
shared_preload_libraries = 'pg_prom'
pg_prom.listen_addresses = '127.0.0.1'
pg_prom.port = {self.promport}
{self.conf}
""")
        start = [f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.work, "log"), "-w", "start"]
        if self.nofile:
            # the endpoint inherits the postmaster's limit on open files
            start = ["bash", "-c", f"ulimit -n {self.nofile} && exec \"$@\"", "-"] + start
        as_postgres(start, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        as_postgres(self.psql + ["-d", "postgres", "-c", "CREATE DATABASE bench"])
        if self.tables:
            # the tables live in the database both exporters connect to (and,
            # with databases > 1, in as many others: pg_prom reads them all)
            extra = ("; CREATE INDEX ON t%s (v)" if self.indexes >= 2 else "")
            sql = (f"SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, v text){extra}', g, g)"
                   f" FROM generate_series(1, {self.tables}) g \\gexec\n")
            dbs = ["postgres"] + [f"bench{i}" for i in range(2, self.databases + 1)]
            for db in dbs[1:]:
                as_postgres(self.psql + ["-d", "postgres", "-c", f"CREATE DATABASE {db}"])
            for db in dbs:
                as_postgres(self.psql + ["-d", db], stdout=subprocess.DEVNULL, input=sql.encode())
                # every table has statistics, as in a database in use
                as_postgres(self.psql + ["-d", db], stdout=subprocess.DEVNULL,
                            input=(f"SELECT format('INSERT INTO t%s VALUES (1, ''x'')', g)"
                                   f" FROM generate_series(1, {self.tables}) g \\gexec\n").encode())
        if self.idle:
            idle_sql = os.path.join(self.work, "idle.sql")
            with open(idle_sql, "w") as f:
                f.write("\\sleep 3600 s\n")
            shutil.chown(idle_sql, "postgres", "postgres")
            self.procs.append(subprocess.Popen(
                ["runuser", "-u", "postgres", "--", f"{PG_BIN}/pgbench", "-n", "-h", self.work,
                 "-p", str(self.pgport), "-c", str(self.idle), "-j", "1", "-T", "3600",
                 "-f", idle_sql, "bench"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if self.exporter:
            env = dict(os.environ, DATA_SOURCE_NAME=f"host={self.work} port={self.pgport} "
                                                    "user=postgres dbname=postgres sslmode=disable")
            pe = subprocess.Popen(["runuser", "-u", "postgres", "--",
                                   "/usr/bin/prometheus-postgres-exporter",
                                   f"--web.listen-address=127.0.0.1:{self.peport}", "--log.level=error"]
                                  + self.exporter_args,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append(pe)
        wait_http(self.promport)
        if self.exporter:
            wait_http(self.peport)
            time.sleep(2)
            child = subprocess.run(["pgrep", "-P", str(self.procs[-1].pid)], capture_output=True, text=True)
            self.pe_pid = int(child.stdout.split()[0]) if child.returncode == 0 else self.procs[-1].pid

    def sql(self, *commands, db="postgres"):
        args = []
        for c in commands:
            args += ["-c", c]
        return as_postgres(self.psql + ["-d", db, "-At"] + args, stdout=subprocess.PIPE,
                           text=True).stdout.strip()

    def configure(self, **settings):
        """ALTER SYSTEM SET pg_prom.<name> = <value> for each, then reload."""
        cmds = [f"ALTER SYSTEM SET pg_prom.{k} = '{v}'" for k, v in settings.items()]
        self.sql(*cmds, "SELECT pg_reload_conf()")
        time.sleep(0.5)

    def endpoint_pid(self):
        return int(self.sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_prom'"))

    def collector_pid(self):
        return int(self.sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_prom collector'"))


    def cpu(self, exporter=False):
        return cluster_cpu(self.postmaster, [self.pe_pid] if exporter and self.pe_pid else [])

    def stop(self):
        for p in self.procs:
            subprocess.run(["pkill", "-TERM", "-P", str(p.pid)], capture_output=True)
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.data,
                        "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
