# Proves custom metrics under real conditions: application counters,
# histograms, gauges and a trigger updated by many sessions at once (pgbench)
# give exact totals on /metrics; values survive a worker restart and start
# again after a server restart; a failing or slow custom query leaves the
# rest of the scrape whole; custom queries never run as a superuser; and
# pg_dump/restore keeps the definitions.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('custom');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

$node->safe_psql('postgres', q{
CREATE EXTENSION pg_prom;
CREATE ROLE app LOGIN;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]) TO app;
GRANT EXECUTE ON FUNCTION pg_prom_gauge_add(text, float8, text[]) TO app;
GRANT EXECUTE ON FUNCTION pg_prom_histogram_observe(text, float8, text[]) TO app;
GRANT EXECUTE ON FUNCTION pg_prom_metric_define(text, text, text, float8[]) TO app;
-- a metric belongs to the role that defines it: the application's own
SET ROLE app;
SELECT pg_prom_metric_define('bench_latency_seconds', 'histogram', 'Observed by pgbench.', ARRAY[0.015, 0.025, 0.035]);
RESET ROLE;
CREATE TABLE orders (id bigserial, region text);
GRANT INSERT ON orders TO app;
GRANT USAGE ON SEQUENCE orders_id_seq TO app;
CREATE FUNCTION count_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_prom_counter_inc('shop_orders_total', 'region', NEW.region);
  RETURN NEW;
END $$;
CREATE TRIGGER count_order AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION count_order();
});

# --- many sessions at once: exact totals ------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
open(my $fh, '>', "$dir/script.sql") or die;
print $fh <<'SQL';
\set r random(1, 4)
SELECT pg_prom_counter_inc('bench_events_total', 'shard', :r::text);
SELECT pg_prom_gauge_add('bench_inflight', 1);
SELECT pg_prom_histogram_observe('bench_latency_seconds', 0.01 * :r);
INSERT INTO orders (region) VALUES (CASE :r WHEN 1 THEN 'eu' WHEN 2 THEN 'us' ELSE 'asia' END);
SELECT pg_prom_gauge_add('bench_inflight', -1);
SQL
close $fh;
my ($clients, $per_client) = (8, 250);
my $total = $clients * $per_client;
$node->command_ok(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-t', $per_client,
		'-f', "$dir/script.sql", '-U', 'app', 'postgres'
	],
	"pgbench: $clients sessions, $total transactions");

my $m = metrics_of($port);
my $events = 0;
$events += $_ for ($m =~ /^bench_events_total\{shard="\d"\} (\S+)$/mg);
is($events, $total, "the counter adds up over its label values ($total)");
is(sample_of($m, 'bench_latency_seconds_count'), $total, 'the histogram counted every observation');
is(sample_of($m, 'bench_latency_seconds_bucket{le="+Inf"}'), $total, 'and its +Inf bucket agrees');
my $b1 = sample_of($m, 'bench_latency_seconds_bucket{le="0.015"}');
my $b2 = sample_of($m, 'bench_latency_seconds_bucket{le="0.025"}');
ok($b1 > 0 && $b2 > $b1 && $b2 < $total, 'buckets are cumulative');
is(sample_of($m, 'bench_inflight'), 0, 'the gauge went up and down as often');
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM orders');
my $by_trigger = 0;
$by_trigger += $_ for ($m =~ /^shop_orders_total\{region="\w+"\} (\S+)$/mg);
is($by_trigger, $rows, "the trigger counted every inserted row ($rows)");
is($node->safe_psql('postgres',
	"SELECT sum(value) FROM pg_prom_app_metrics() WHERE metric_name = 'shop_orders_total'"),
	$rows, 'pg_prom_app_metrics() says the same');

# --- worker restart keeps the values; server restart starts again ------------
my $pid = worker_pid($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
my $deadline = time + 60;
sleep 0.2 while (worker_pid($node) eq '' || worker_pid($node) eq $pid) && time < $deadline;
ok(wait_for_endpoint($port), 'a new worker answers');
$m = metrics_of($port);
is(sample_of($m, 'bench_latency_seconds_count'), $total, 'values survive a worker restart');

# --- custom queries: a slow one and a failing one stay alone ----------------
$node->safe_psql('postgres', q{
GRANT SELECT ON orders TO pg_monitor;
SELECT pg_prom_register_query('shop_orders_by_region',
  'SELECT region, count(*) AS rows FROM public.orders GROUP BY region', 'Orders by region, counted by a query.',
  label_columns => '{region}');
SELECT pg_prom_register_query('shop_slow', 'SELECT 1 AS v FROM pg_sleep(30)', 'Never finishes in time.');
SELECT pg_prom_register_query('shop_broken',
  'SELECT 1 / (count(*) - count(*)) AS v FROM public.orders', 'Divides by zero at every run.');
});
my $t0 = time;
my $r = http_get($port, '/metrics');
my $elapsed = time - $t0;
is($r->{status}, 200, 'the scrape succeeds');
ok($elapsed < 8, sprintf('and ends within the budget (%.1f s: the slow query was cancelled)', $elapsed));
$m = $r->{content};
like($m, qr/^pg_scrape_collector_success\{collector="custom:shop_slow"\} 0$/m, 'the slow query failed');
like($m, qr/^pg_scrape_collector_success\{collector="custom:shop_broken"\} 0$/m, 'the broken query failed');
like($m, qr/^pg_scrape_collector_success\{collector="custom:shop_orders_by_region"\} 1$/m,
	'the good query succeeded');
my $by_query = 0;
$by_query += $_ for ($m =~ /^shop_orders_by_region_rows\{region="\w+"\} (\S+)$/mg);
is($by_query, $rows, 'and its series are there');
unlike($m, qr/^pg_scrape_collector_success\{collector="[a-z_]+"\} 0$/m, 'every built-in collector succeeded');
unlike($m, qr/^shop_slow_|^shop_broken_/m, 'the failed queries wrote nothing');
is(sample_of($m, 'bench_latency_seconds_count'), $total, 'application metrics are there too');
my $log = slurp_file($node->logfile);
like($log, qr/collector "custom:shop_slow" failed: canceling statement due to statement timeout/,
	'the log says the slow query timed out');
like($log, qr/collector "custom:shop_broken" failed: division by zero/, 'and why the other failed');

# --- never as a superuser ---------------------------------------------------
$node->safe_psql('postgres', q{
CREATE ROLE boss SUPERUSER;
ALTER SYSTEM SET pg_prom.custom_query_role = 'boss';
SELECT pg_reload_conf();
});
$deadline = time + 30;
do { sleep 0.3; $m = metrics_of($port) }
  while $m !~ /collector="custom:shop_orders_by_region"\} 0/ && time < $deadline;
like($m, qr/^pg_scrape_collector_success\{collector="custom:shop_orders_by_region"\} 0$/m,
	'with a superuser as pg_prom.custom_query_role, custom queries do not run');
like(slurp_file($node->logfile), qr/pg_prom.custom_query_role "boss" is a superuser/, 'and the log says why');
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT pg_prom_register_query('shop_x', 'SELECT 1 AS v', 'x')");
like($err, qr/is a superuser/, 'registration refuses too');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_prom.custom_query_role; SELECT pg_reload_conf();');

# --- dump and restore keep the definitions -----------------------------------
$node->safe_psql('postgres', "SELECT pg_prom_unregister_query('shop_slow')");
my $defs = $node->safe_psql('postgres',
	'SELECT name, query, label_columns, value_columns FROM pg_prom_queries ORDER BY name');
$node->command_ok([ 'pg_dump', '-f', "$dir/dump.sql", 'postgres' ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$dir/dump.sql", 'restored' ],
	'restore into another database');
is($node->safe_psql('restored',
	'SELECT name, query, label_columns, value_columns FROM pg_prom_queries ORDER BY name'),
	$defs, 'the restored database has the same custom queries');

# --- a server restart starts application metrics from zero -------------------
$node->restart;
ok(wait_for_endpoint($port), 'endpoint answers after a restart');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prom_app_metrics()'), 0,
	'application metrics start empty after a server restart (documented)');
like(metrics_of($port), qr/^shop_orders_by_region_rows\{region="eu"\} /m,
	'custom queries keep running (their definitions are in a table)');

check_log_clean($node);
done_testing();
