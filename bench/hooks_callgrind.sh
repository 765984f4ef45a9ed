#!/usr/bin/env bash
# Instructions per statement with and without pg_prom's hooks, counted by
# valgrind's callgrind on a single-user backend (postgres --single loads
# shared_preload_libraries), so machine noise does not matter: for each
# mode, run 0 and N statements and divide the difference by N.
#
#   bench/hooks_callgrind.sh [N]      (as root; default N=2000)
set -euo pipefail
N=${1:-2000}
PG_BIN=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pg_prom-callgrind.XXXXXX)
chown postgres: "$work"
trap 'rm -rf "$work"' EXIT
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }

runuser -u postgres -- $PG_BIN/initdb -D "$work/data" -A trust -U postgres >/dev/null
echo "pg_prom.listen_addresses = ''" >> "$work/data/postgresql.conf"
echo "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0);" |
	runuser -u postgres -- $PG_BIN/postgres --single -D "$work/data" postgres >/dev/null
cp -a "$work/data" "$work/pristine"

instructions() {		# $1: preload list, $2: statement, $3: count
	local script="$work/script.sql" out="$work/cg.out"
	: > "$script"
	for ((i = 0; i < $3; i++)); do echo "$2" >> "$script"; done
	chown postgres: "$script"
	# every run starts from the same data directory
	rm -rf "$work/data" && cp -a "$work/pristine" "$work/data"
	runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$out" \
		$PG_BIN/postgres --single -D "$work/data" -c shared_preload_libraries="$1" postgres \
		< "$script" >/dev/null 2>&1
	grep -E '^(summary|totals):' "$out" | tail -1 | awk '{print $2}'
}

echo "| statement | instructions per statement without pg_prom | with pg_prom (all hooks on) | difference | ratio |"
echo "|---|---|---|---|---|"
for stmt in "SELECT 1;" "UPDATE t SET v = v + 1 WHERE id = 1;"; do
	off0=$(instructions "" "$stmt" 0)
	offN=$(instructions "" "$stmt" "$N")
	on0=$(instructions "pg_prom" "$stmt" 0)
	onN=$(instructions "pg_prom" "$stmt" "$N")
	awk -v s="$stmt" -v a="$off0" -v b="$offN" -v c="$on0" -v d="$onN" -v n="$N" 'BEGIN {
		off = (b - a) / n; on = (d - c) / n;
		printf "| `%s` | %.0f | %.0f | %+.0f | %.4f |\n", s, off, on, on - off, on / off }'
done
