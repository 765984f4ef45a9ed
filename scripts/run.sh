#!/usr/bin/env bash
# Try pg_prom: build and install it, start a throwaway PostgreSQL 15 with
# pg_prom preloaded and a Prometheus scraping it, and print where to look.
# Works as root on a fresh Debian 12; installs what it needs.
#
#   scripts/run.sh          start (restarts a previous demo)
#   scripts/run.sh stop     stop and remove the demo
#
# Ports (override with environment variables): PostgreSQL PGPORT=54329,
# pg_prom PG_PROM_PORT=9187, Prometheus PROM_PORT=9090.  Everything listens
# on 127.0.0.1 only; a port in use is replaced by the next free one.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

demo=${PG_PROM_DEMO_DIR:-/tmp/pg_prom-demo}
pgport=${PGPORT:-54329}
promport=${PROM_PORT:-9090}
metricsport=${PG_PROM_PORT:-9187}

stop_demo() {
	if [ -f "$demo/prometheus.pid" ]; then
		kill "$(cat "$demo/prometheus.pid")" 2>/dev/null || true
		rm -f "$demo/prometheus.pid"
	fi
	if [ -f "$demo/data/postmaster.pid" ]; then
		runuser -u postgres -- $PG_BIN/pg_ctl -D "$demo/data" -m fast stop >/dev/null || true
	fi
}

need_root
# the postgres user runs the commands below: start them from a directory
# it can read (root's home is not), or every one says "could not change
# directory"
cd /
if [ "${1:-}" = "stop" ]; then
	stop_demo
	rm -rf "$demo"
	echo "pg_prom demo stopped and removed ($demo)"
	exit 0
fi

install_packages
build_and_install
stop_demo
rm -rf "$demo"

# a port already taken (a running postgres_exporter, a system Prometheus)
# moves the demo to the next free one
pgport=$(pick_port $pgport)
promport=$(pick_port $promport)
metricsport=$(pick_port $metricsport)
mkdir -p "$demo"
chown postgres: "$demo"

echo "== creating a PostgreSQL $PG_MAJOR cluster in $demo/data"
runuser -u postgres -- $PG_BIN/initdb -D "$demo/data" -A peer -U postgres >/dev/null
cat >> "$demo/data/postgresql.conf" <<CONF

# --- pg_prom demo ---
listen_addresses = ''
port = $pgport
unix_socket_directories = '$demo'
shared_preload_libraries = 'pg_prom'
pg_prom.listen_addresses = '127.0.0.1'
pg_prom.port = $metricsport
CONF
runuser -u postgres -- $PG_BIN/pg_ctl -D "$demo/data" -l "$demo/postgresql.log" -w start >/dev/null
runuser -u postgres -- $PG_BIN/psql -h "$demo" -p $pgport -qX -d postgres \
	-c "CREATE EXTENSION pg_prom" -c "CREATE DATABASE demo" >/dev/null
runuser -u postgres -- $PG_BIN/pgbench -h "$demo" -p $pgport -i -s 1 -q demo >/dev/null 2>&1

echo "== starting Prometheus on 127.0.0.1:$promport with monitoring/prometheus"
# the shipped kit as a user would copy it: prometheus.yml, the alert rules,
# and a target file listing this server; scrape every 5 s for the demo
mkdir -p "$demo/prometheus/targets"
cp "$here"/monitoring/prometheus/{prometheus.yml,alerts.yml} "$demo/prometheus/"
sed -i -e 's/^\(  *scrape_interval:\) 15s/\1 5s/' -e 's/^\(  *evaluation_interval:\) 15s/\1 5s/' \
	-e 's/^\(  *scrape_timeout:\) 10s/\1 5s/' "$demo/prometheus/prometheus.yml"
cat > "$demo/prometheus/targets/demo.yml" <<YML
- targets: ['127.0.0.1:$metricsport']
  labels:
    cluster: demo
YML
chown -R postgres: "$demo/prometheus"
runuser -u postgres -- setsid prometheus --config.file="$demo/prometheus/prometheus.yml" \
	--storage.tsdb.path="$demo/prometheus-data" \
	--web.listen-address="127.0.0.1:$promport" \
	>"$demo/prometheus.log" 2>&1 < /dev/null &
echo $! > "$demo/prometheus.pid"

for _ in $(seq 1 50); do
	curl -fs "http://127.0.0.1:$metricsport/health" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fs "http://127.0.0.1:$metricsport/health" >/dev/null || {
	echo "pg_prom did not answer; see $demo/postgresql.log" >&2
	exit 1
}

cat <<MSG

pg_prom is running.
  Metrics:     http://127.0.0.1:$metricsport/metrics   (curl it)
  Health:      http://127.0.0.1:$metricsport/health
  Prometheus:  http://127.0.0.1:$promport/graph?g0.expr=pg_stat_database_xact_commit
  Alerts:      http://127.0.0.1:$promport/classic/alerts   (monitoring/prometheus/alerts.yml)
  Targets:     http://127.0.0.1:$promport/classic/targets
  Dashboard:   import monitoring/grafana/dashboards/pg_prom.json into Grafana,
               with a Prometheus datasource at http://127.0.0.1:$promport
  SQL:         runuser -u postgres -- psql -h $demo -p $pgport -c 'SELECT pg_prom_metrics()'
  Some load:   runuser -u postgres -- pgbench -h $demo -p $pgport -T 30 demo
  Logs:        $demo/postgresql.log, $demo/prometheus.log
  Stop:        $0 stop
MSG
