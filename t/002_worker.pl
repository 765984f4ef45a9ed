# Proves the worker's life cycle and isolation: it reloads and re-binds on
# SIGHUP, turns the endpoint off and on, comes back after
# pg_terminate_backend, exits promptly on shutdown, keeps answering while
# a migration holds an ACCESS EXCLUSIVE lock on a catalog (only the
# collectors that need it fail, visibly), and the SQL function works
# without shared_preload_libraries.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('worker');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

# --- the workers as PostgreSQL sees them ----------------------------------------
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_prom'"),
	'1', 'one pg_prom endpoint');
is($node->safe_psql('postgres',
	"SELECT coalesce(datname, '(none)') FROM pg_stat_activity WHERE backend_type = 'pg_prom'"),
	'(none)', 'the endpoint is connected to no database');
my $collector_db = '';
for (1 .. 100)
{
	$collector_db = $node->safe_psql('postgres',
		"SELECT datname FROM pg_stat_activity WHERE backend_type = 'pg_prom collector'");
	last if $collector_db ne '';
	sleep 0.1;
}
is($collector_db, 'postgres', 'the collector is connected to pg_prom.database');

# --- SIGHUP: new port, endpoint off, endpoint back --------------------------
my $port2 = PostgreSQL::Test::Cluster::get_free_port();
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.port = $port2");
$node->reload;
ok(wait_for_endpoint($port2, 30), 'after reload the endpoint moves to the new port');
is(http_get($port, '/health')->{status}, 599, 'the old port is closed');
my $old_pid = worker_pid($node);

$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.listen_addresses = ''");
$node->reload;
my $off = 0;
for (1 .. 100)
{
	if (http_get($port2, '/health')->{status} == 599) { $off = 1; last; }
	sleep 0.1;
}
ok($off, "listen_addresses = '' turns the endpoint off");
ok($node->wait_for_log(qr/pg_prom: HTTP endpoint is off/), 'and says so in the log');
is(worker_pid($node), $old_pid, 'the worker keeps running while the endpoint is off');

$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.listen_addresses");
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.listen_addresses = '127.0.0.1'");
$node->reload;
ok(wait_for_endpoint($port2, 30), 'endpoint back after reload');

# an invalid value in the file is rejected at reload; the worker keeps the old one
$node->append_conf('postgresql.conf', "pg_prom.metrics_path = 'no-slash'\n");
$node->reload;
sleep 1;
is(http_get($port2, '/metrics')->{status}, 200, 'invalid metrics_path in a reload is ignored');
ok($node->wait_for_log(qr/invalid value for parameter "pg_prom.metrics_path"/),
	'and the log says why');
$node->adjust_conf('postgresql.conf', 'pg_prom.metrics_path', "'/custom/metrics'");
$node->reload;
my $moved = 0;
for (1 .. 100)
{
	if (http_get($port2, '/custom/metrics')->{status} == 200) { $moved = 1; last; }
	sleep 0.1;
}
ok($moved, 'a valid metrics_path is taken at reload');
is(http_get($port2, '/metrics')->{status}, 404, 'the old path is gone');
$node->adjust_conf('postgresql.conf', 'pg_prom.metrics_path', "'/metrics'");
$node->reload;
sleep 0.5;

# --- pg_terminate_backend: the postmaster restarts the worker ----------------------
$old_pid = worker_pid($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_pid)");
my $back = 0;
my $t0 = time;
while (time - $t0 < 30)
{
	my $pid = worker_pid($node);
	# /ready: its collector is connected too (a collector still connecting
	# would wait behind the lock on pg_database taken next)
	if ($pid ne '' && $pid ne $old_pid && http_get($port2, '/ready')->{status} == 200)
	{
		$back = 1;
		last;
	}
	sleep 0.2;
}
ok($back, 'terminated worker is restarted and serves again');

# --- a migration holds ACCESS EXCLUSIVE on pg_database ------------------------
{
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE;');
	$t0 = time;
	my $r = http_get($port2, '/metrics');
	my $took = time - $t0;
	is($r->{status}, 200, 'scrape answers 200 while pg_database is locked');
	ok($took < 5, "and promptly ($took s)");
	like($r->{content}, qr/^pg_scrape_collector_success\{collector="locks"\} 0$/m,
		'the collector that needs pg_database reports failure');
	like($r->{content}, qr/^pg_scrape_collector_success\{collector="settings"\} 1$/m,
		'the others still succeed');
	like($r->{content}, qr/^pg_settings_max_connections 100$/m, 'and their metrics are there');
	unlike($r->{content}, qr/^pg_locks_count/m, 'the failed collector left nothing half-written');
	like($r->{content}, qr/^pg_prom_collector_errors_total\{collector="locks"\} [1-9]/m,
		'the failure is counted');
	$bg->query_safe('COMMIT;');
	$bg->quit;
	ok($node->log_contains('pg_prom: collector "locks" failed: canceling statement due to lock timeout'),
		'the failure is logged with its reason');
	like(metrics_of($port2), qr/^pg_scrape_collector_success\{collector="locks"\} 1$/m,
		'and the collector recovers when the lock is gone');
}

# --- a lock without lock_timeout: the scrape budget bounds the wait -----------
{
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.lock_timeout = 0");
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.scrape_timeout = '1s'");
	$node->reload;
	sleep 0.5;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_prom');
	my $caller = $node->background_psql('postgres', on_error_stop => 0);
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE;');
	$t0 = time;
	my $r = http_get($port2, '/metrics');
	my $took = time - $t0;
	is($r->{status}, 200, 'scrape answers 200 when a collector runs into pg_prom.scrape_timeout');
	ok($took >= 0.9 && $took < 5, "after about the scrape budget ($took s)");
	like($r->{content}, qr/^pg_scrape_collector_success\{collector="stat_database"\} 0$/m,
		'the collector that waited is reported failed');
	like($r->{content}, qr/^pg_up 1$/m, 'what ran before it is there');
	# on the SQL door the caller's statement_timeout is the caller's: not swallowed
	# (a session opened before the lock: new connections wait for pg_database)
	my ($out, $failed) = $caller->query(
		"SET statement_timeout = '300ms'; SET pg_prom.lock_timeout = 0; SELECT length(pg_prom_metrics());");
	is($failed, 1, 'pg_prom_metrics() fails under the caller\'s statement_timeout');
	like($caller->{stderr}, qr/canceling statement due to statement timeout/,
		"pg_prom_metrics() is cancelled by the caller's statement_timeout");
	$caller->quit;
	$bg->query_safe('COMMIT;');
	$bg->quit;
	# (its failure was already logged during the lock_timeout test above, and
	# the log is rate-limited per collector)
	ok($node->log_contains('skipped: pg_prom.scrape_timeout was used up by earlier collectors'),
		'collectors past the budget are skipped and logged');
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.lock_timeout");
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.scrape_timeout");
	$node->reload;
	sleep 0.5;
	unlike(metrics_of($port2), qr/^pg_scrape_collector_success\{[^}]*\} 0$/m,
		'every collector succeeds again');
}

# --- a collector that ignores its cancel is terminated ---------------------------
# pg_prom.test_stall_collector makes one collector wait 10 s with interrupts
# held (as one stuck in an uninterruptible wait would): the scrape is answered
# after the budget plus the grace second with what finished, /health answers
# meanwhile, and a scrape queued behind it is served by a new collector; a
# second collector stuck while the first still is gets waited for.
{
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.scrape_timeout = '1s'");
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET pg_prom.test_stall_collector = 'replication'");
	$node->reload;
	sleep 0.5;
	my $stalled = open_client($port2);
	$t0 = time;
	syswrite($stalled, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	sleep 0.3;
	my $queued = open_client($port2);
	syswrite($queued,
		"GET /metrics?collect[]=static&collect[]=settings HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	my $h0 = time;
	my $health = http_get($port2, '/health');
	my $htook = time - $h0;
	is($health->{status}, 200, '/health answers while a collector ignores its cancel');
	ok($htook < 1, "without waiting for it ($htook s)");
	my $resp = read_response($stalled, 20);
	my $took = time - $t0;
	like($resp, qr{^HTTP/1\.1 200 }, 'the scrape is answered 200');
	ok($took >= 1.8 && $took < 8, "after the budget and the grace second ($took s)");
	like($resp, qr/^pg_scrape_collector_success\{collector="replication"\} 0$/m,
		'the stalled collector is reported failed');
	like($resp, qr/^pg_scrape_collector_success\{collector="replication_slots"\} 0$/m,
		'and those after it');
	for my $before (qw(static database stat_database locks settings stat_bgwriter stat_wal))
	{
		like($resp, qr/^pg_scrape_collector_success\{collector="$before"\} 1$/m,
			"$before, which finished before it, succeeded");
	}
	like($resp, qr/^pg_settings_max_connections 100$/m, 'with its metrics');
	like($resp, qr/^pg_locks_count\{/m, 'all of them');
	unlike($resp, qr/^pg_replication_is_replica/m, 'nothing of the stalled one');
	my $qresp = read_response($queued, 20);
	like($qresp, qr{^HTTP/1\.1 200 }, 'the scrape queued behind it is answered 200');
	like($qresp, qr/^pg_scrape_collector_success\{collector="settings"\} 1$/m,
		'by a new collector');
	ok(time - $t0 < 10, 'without waiting for the stalled one to end');
	close($stalled);
	close($queued);
	ok($node->log_contains(
			'Collector "replication" was running; it and those after it report pg_scrape_collector_success 0'),
		'the log names the collector that was running');

	# a second collector stuck while the first still is: that one is waited
	# for, not left too, so stuck collectors never hold more than two slots
	my $r2 = http_get($port2, '/metrics');
	is($r2->{status}, 200, 'a second stuck collection is answered too');
	like($r2->{content}, qr/^pg_scrape_collector_success\{collector="replication"\} 0$/m,
		'reporting the stalled collector');
	ok($node->log_contains('a collector terminated before is still running'),
		'the second stuck collector is kept, and the log says why');
	my $ncollectors = $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_prom collector'");
	ok($ncollectors <= 2, "no more than two collectors run ($ncollectors)");
	my $r3 = http_get($port2, '/metrics');
	is($r3->{status}, 503, 'until one stops, scrapes get 503');
	like($r3->{content}, qr/collector is not running/, 'with the reason');
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.test_stall_collector");
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.scrape_timeout");
	$node->reload;
	sleep 0.5;
	ok( defined wait_for_metrics(
			$port2, qr/^pg_scrape_collector_success\{collector="replication"\} 1$/m, 30),
		'and the next scrapes are whole again');
}

# --- shutdown is prompt -------------------------------------------------------
$t0 = time;
$node->stop('fast');
ok(time - $t0 < 10, 'fast shutdown with the worker running is prompt');
check_log_clean($node);

# --- without shared_preload_libraries --------------------------------------------
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_prom');
my $text = $plain->safe_psql('postgres', 'SELECT pg_prom_metrics()');
like($text, qr/^pg_up 1$/m, 'pg_prom_metrics() works without shared_preload_libraries');
like($text, qr/^pg_stat_activity_count\{/m, 'with shared-memory collectors');
unlike($text, qr/^pg_prom_scrapes_total/m, 'and without the shared counters');
ok($plain->log_contains('loaded without shared_preload_libraries; the HTTP endpoint is off'),
	'the log says the endpoint is off');
$plain->stop;
check_log_clean($plain);

done_testing();
