#!/usr/bin/env bash
# Render the dashboard's main queries in Prometheus's graph page and save a
# picture of it as docs/dashboard.png (the one in the README).  Starts the
# demo of scripts/run.sh, puts two minutes of pgbench load (and a few
# failing statements) on it, then photographs the page with headless
# Chromium from Debian.  Leaves the demo running: scripts/run.sh stop.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

need_root
dpkg -s chromium >/dev/null 2>&1 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

"$here/scripts/run.sh" | tee /tmp/pg_prom-screenshot.run
promport=$(sed -n 's|.*Prometheus:  http://127.0.0.1:\([0-9]*\)/.*|\1|p' /tmp/pg_prom-screenshot.run)
demo=/tmp/pg_prom-demo
seconds=${LOAD_SECONDS:-120}

cat > "$demo/load.sql" <<'SQL'
\set aid random(1, 100000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
END;
SQL
chown postgres: "$demo/load.sql"
pgport=$(sed -n 's/^port = //p' "$demo/data/postgresql.conf" | tail -n 1)
echo "== ${seconds} s of pgbench load, and a failing statement now and then"
(
	for _ in $(seq 1 $((seconds / 2))); do
		runuser -u postgres -- $PG_BIN/psql -h "$demo" -p "$pgport" -qX -d demo \
			-c 'SELECT 1 / 0' -c 'SELECT * FROM no_such_table' >/dev/null 2>&1 || true
		sleep 2
	done
) &
errors=$!
runuser -u postgres -- $PG_BIN/pgbench -h "$demo" -p "$pgport" -c 4 -T "$seconds" -R 300 \
	-f "$demo/load.sql" -b select-only demo >/dev/null 2>&1 || true
wait $errors

urlenc() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
queries=(
	'sum by (command) (rate(pg_statement_duration_seconds_count[1m]))'
	'histogram_quantile(0.95, sum by (le) (rate(pg_statement_duration_seconds_bucket[1m])))'
	'sum by (sqlstate_class) (rate(pg_errors_total[1m]))'
	'sum by (state) (pg_stat_activity_count{datname="demo"})'
)
url="http://127.0.0.1:$promport/graph?"
i=0
for q in "${queries[@]}"; do
	url+="g$i.expr=$(urlenc "$q")&g$i.tab=0&g$i.range_input=$((seconds / 60 + 1))m&"
	i=$((i + 1))
done
mkdir -p "$here/docs"
runuser -u postgres -- chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1280,3100 --virtual-time-budget=15000 \
	--screenshot=/tmp/pg_prom-dashboard.png "$url" >/dev/null 2>&1
cp /tmp/pg_prom-dashboard.png "$here/docs/dashboard.png"
echo "saved docs/dashboard.png"
