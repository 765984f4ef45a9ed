#!/usr/bin/env bash
# Instructions per statement for recording an application metric, counted
# by valgrind's callgrind on a single-user backend with pg_prom preloaded,
# so machine noise does not matter: run 0 and N statements and divide the
# difference by N.  Compared with SELECT 1, and a trigger calling
# pg_prom_counter_inc, and pg_prom_count_rows as the trigger function, with
# an INSERT without trigger and with a trigger updating a counter row (what
# applications do without pg_prom).
#
#   bench/app_metrics_callgrind.sh [N]      (as root; default N=2000)
set -euo pipefail
N=${1:-2000}
PG_BIN=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pg_prom-callgrind.XXXXXX)
chown postgres: "$work"
trap 'rm -rf "$work"' EXIT
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }

runuser -u postgres -- $PG_BIN/initdb -D "$work/data" -A trust -U postgres >/dev/null
echo "pg_prom.listen_addresses = ''" >> "$work/data/postgresql.conf"
runuser -u postgres -- $PG_BIN/postgres --single -D "$work/data" postgres >/dev/null <<'SQL'
CREATE EXTENSION pg_prom;
CREATE TABLE counters (id int PRIMARY KEY, n bigint); INSERT INTO counters VALUES (1, 0);
CREATE FUNCTION trg_prom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_prom_counter_inc('rows_total', 'region', NEW.region); RETURN NEW; END $$;
CREATE FUNCTION trg_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE counters SET n = n + 1 WHERE id = 1; RETURN NEW; END $$;
CREATE TABLE t_plain (id int, region text);
CREATE TABLE t_prom (id int, region text);
CREATE TABLE t_update (id int, region text);
CREATE TABLE t_count (id int, region text);
CREATE TRIGGER t AFTER INSERT ON t_count FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('rows_total', 'region');
CREATE TRIGGER t AFTER INSERT ON t_prom FOR EACH ROW EXECUTE FUNCTION trg_prom();
CREATE TRIGGER t AFTER INSERT ON t_update FOR EACH ROW EXECUTE FUNCTION trg_update();
SQL
cp -a "$work/data" "$work/pristine"

# per_statement STATEMENT [FUNCTION]: instructions per statement, and when
# FUNCTION is given, after a space, the instructions spent inside it
# (inclusive) per statement: pg_prom's own share.
per_statement() {
	local script="$work/script.sql" out="$work/cg.out" n total0 totalN inside=""
	for n in 0 "$N"; do
		: > "$script"
		for ((i = 0; i < n; i++)); do echo "$1" >> "$script"; done
		chown postgres: "$script"
		rm -rf "$work/data" && cp -a "$work/pristine" "$work/data"
		runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$out" \
			$PG_BIN/postgres --single -D "$work/data" -c shared_preload_libraries=pg_prom postgres \
			< "$script" >/dev/null 2>&1
		if [ "$n" = 0 ]; then
			total0=$(grep -E '^(summary|totals):' "$out" | tail -1 | awk '{print $2}')
		else
			totalN=$(grep -E '^(summary|totals):' "$out" | tail -1 | awk '{print $2}')
			if [ -n "${2:-}" ]; then
				inside=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
					awk -v f=":$2 " '!done && $0 ~ f && $0 ~ /pg_prom.so/ { gsub(",", "", $1); print int($1 / '"$N"'); done = 1 }')
			fi
		fi
	done
	echo $(((totalN - total0) / N)) $inside
}

select1=$(per_statement "SELECT 1;")
read -r inc0 inc0_in < <(per_statement "SELECT pg_prom_counter_inc('bench_total');" pg_prom_counter_inc)
read -r inc2 inc2_in < <(per_statement "SELECT pg_prom_counter_inc('bench_total', 'region', 'eu', 'channel', 'web');" pg_prom_counter_inc)
read -r obs obs_in < <(per_statement "SELECT pg_prom_histogram_observe('bench_seconds', 0.3, 'region', 'eu');" pg_prom_histogram_observe)
plain=$(per_statement "INSERT INTO t_plain VALUES (1, 'eu');")
read -r prom prom_in < <(per_statement "INSERT INTO t_prom VALUES (1, 'eu');" pg_prom_counter_inc)
read -r count count_in < <(per_statement "INSERT INTO t_count VALUES (1, 'eu');" pg_prom_count_rows)
update=$(per_statement "INSERT INTO t_update VALUES (1, 'eu');")

echo "| statement | instructions per statement | compared with | difference | inside pg_prom's function |"
echo "|---|---:|---|---:|---:|"
echo "| \`SELECT 1;\` | $select1 | | | |"
echo "| \`SELECT pg_prom_counter_inc('bench_total');\` | $inc0 | \`SELECT 1;\` | +$((inc0 - select1)) | $inc0_in |"
echo "| \`SELECT pg_prom_counter_inc('bench_total', 'region', 'eu', 'channel', 'web');\` | $inc2 | \`SELECT 1;\` | +$((inc2 - select1)) | $inc2_in |"
echo "| \`SELECT pg_prom_histogram_observe('bench_seconds', 0.3, 'region', 'eu');\` | $obs | \`SELECT 1;\` | +$((obs - select1)) | $obs_in |"
echo "| \`INSERT\` one row, no trigger | $plain | | | |"
echo "| \`INSERT\` one row, trigger calling \`pg_prom_counter_inc\` with a label | $prom | no trigger | +$((prom - plain)) | $prom_in |"
echo "| \`INSERT\` one row, trigger \`pg_prom_count_rows('rows_total', 'region')\` | $count | no trigger | +$((count - plain)) | $count_in |"
echo "| \`INSERT\` one row, trigger updating a counter row | $update | no trigger | +$((update - plain)) | |"
