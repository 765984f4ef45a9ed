#!/bin/bash
# The same scrape, two builds of pg_prom, one machine, one moment: CPU per
# scrape of an older commit against the working tree, alternating on one
# throwaway PostgreSQL 15 cluster (1000 tables, 50 idle clients), each build
# with the collectors that make postgres_exporter 0.11.1's default families.
# The machine is shared and noisy: rounds alternate, compare the ratio.
#
#   bench/versions_bench.sh [old-commit] [scrapes] [rounds]
#
# Default old commit: 806e8cb, the one-process design measured on 2026-11-27
# (0.72 ms, 32x less than postgres_exporter then).  Run as root from the
# repository root; builds both into /tmp, installs each in turn into
# PostgreSQL 15's library directory and puts the installed one back at the
# end.  Only loopback and a Unix socket in a private directory.
set -euo pipefail

OLD=${1:-806e8cb}
N=${2:-1000}
R=${3:-4}
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
BIN=$($PG_CONFIG --bindir)
LIB=$($PG_CONFIG --pkglibdir)/pg_prom.so
here=$(pwd)
work=$(mktemp -d /tmp/pg_prom-versions.XXXXXX)
chmod 755 "$work"
chown postgres "$work"
pgport=$((20000 + RANDOM % 20000))
promport=$((pgport + 1))

# collectors: the 2026-11-27 set for the old build, the same families now
OLD_SET="default, -replication, -roles, -wal, -stat_progress_vacuum, -stat_user_tables, -statio_user_tables, -table_sizes, -statements, -errors, -auth, -connections, -stat_statements"
NEW_SET="default, -replication, -roles, -wal, -stat_progress_vacuum, -stat_user_tables, -statio_user_tables, -table_sizes, -stat_user_indexes, -statements, -errors, -auth, -connections, -stat_statements, -stat_wal, -stat_io, -stat_lock, -subscription, -stat_recovery, -process"

cp "$LIB" "$work/installed.so"
pgbench_pid=""
cleanup() {
	[ -n "$pgbench_pid" ] && kill "$pgbench_pid" 2>/dev/null || true
	if [ -f "$work/data/postmaster.pid" ]; then
		runuser -u postgres -- "$BIN/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true
	fi
	cp "$work/installed.so" "$LIB.new" && mv "$LIB.new" "$LIB"
	git -C "$here" worktree remove --force "$work/old" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building $OLD and the working tree"
git -C "$here" worktree add -q "$work/old" "$OLD"
make -s -C "$work/old" PG_CONFIG=$PG_CONFIG >/dev/null
cp "$work/old/pg_prom.so" "$work/old.so"
make -s -C "$here" PG_CONFIG=$PG_CONFIG >/dev/null
cp "$here/pg_prom.so" "$work/new.so"

echo "== cluster: 1000 tables, 50 idle clients"
mkdir "$work/data" && chown postgres "$work/data"
runuser -u postgres -- "$BIN/initdb" -D "$work/data" -A trust >/dev/null
cat >>"$work/data/postgresql.conf" <<EOC
port = $pgport
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'pg_prom'
pg_prom.listen_addresses = '127.0.0.1'
pg_prom.port = $promport
pg_prom.collectors = 'default'
EOC
cp "$work/new.so" "$LIB.new" && mv "$LIB.new" "$LIB"
runuser -u postgres -- "$BIN/pg_ctl" -D "$work/data" -l "$work/log" start -w >/dev/null
psql="$BIN/psql -h $work -p $pgport -U postgres -q"
runuser -u postgres -- $psql -d postgres -c "CREATE DATABASE bench"
echo "SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', g) FROM generate_series(1, 1000) g \\gexec" |
	runuser -u postgres -- $psql -d postgres >/dev/null
echo "SELECT format('INSERT INTO t%s VALUES (1, ''x'')', g) FROM generate_series(1, 1000) g \\gexec" |
	runuser -u postgres -- $psql -d postgres >/dev/null
echo '\sleep 3600 s' >"$work/idle.sql"
chmod 644 "$work/idle.sql"

# server CPU (postmaster, children, reaped children) over N scrapes, each on
# a new connection as Prometheus makes them
measure() {
	python3 - "$work/data/postmaster.pid" "$promport" "$N" <<'PY'
import os, sys, time, http.client
pidfile, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def cpu():
    pm = int(open(pidfile).readline()); tot = 0; tck = os.sysconf('SC_CLK_TCK')
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try: f = open(f'/proc/{p}/stat').read()
        except OSError: continue
        f = f[f.rindex(')') + 2:].split()
        if int(p) == pm: tot += sum(int(x) for x in f[11:15]) / tck
        elif int(f[1]) == pm: tot += (int(f[11]) + int(f[12])) / tck
    return tot
for _ in range(5):
    c = http.client.HTTPConnection('127.0.0.1', port); c.request('GET', '/metrics'); c.getresponse().read(); c.close()
c0 = cpu(); t0 = time.time()
for _ in range(n):
    c = http.client.HTTPConnection('127.0.0.1', port)
    c.request('GET', '/metrics', headers={'Connection': 'close'})
    body = c.getresponse().read(); c.close()
series = sum(1 for l in body.decode().split('\n') if l and not l.startswith('#'))
print(f"{1000 * (cpu() - c0) / n:.3f} {1000 * (time.time() - t0) / n:.3f} {series}")
PY
}

declare -A total
total[old]=0
total[new]=0
for r in $(seq "$R"); do
	for v in old new; do
		if [ $v = old ]; then set_="$OLD_SET"; else set_="$NEW_SET"; fi
		cp "$work/$v.so" "$LIB.new" && mv "$LIB.new" "$LIB"
		sed -i "s/^pg_prom.collectors.*/pg_prom.collectors = '$set_'/" "$work/data/postgresql.conf"
		runuser -u postgres -- "$BIN/pg_ctl" -D "$work/data" -l "$work/log" restart -m fast -w >/dev/null
		runuser -u postgres -- "$BIN/pgbench" -n -h "$work" -p $pgport -c 50 -j 1 -T 600 \
			-f "$work/idle.sql" bench >/dev/null 2>&1 &
		pgbench_pid=$!
		sleep 3
		read -r cpu wall series < <(measure)
		kill "$pgbench_pid" 2>/dev/null || true
		wait "$pgbench_pid" 2>/dev/null || true
		pgbench_pid=""
		echo "round $r: $v: $cpu ms CPU/scrape, $wall ms wall, $series series"
		total[$v]=$(python3 -c "print(${total[$v]} + $cpu)")
	done
done
python3 - "${total[old]}" "${total[new]}" "$R" "$OLD" <<'PY'
import sys
old, new, r, commit = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"\n| build | CPU per scrape (mean of {r} rounds) |\n|---|---|")
print(f"| {commit} (one process, 2026-11-27) | {old / r:.3f} ms |")
print(f"| working tree | {new / r:.3f} ms |")
print(f"\nworking tree / {commit}: {new / old:.2f}")
PY
