# Proves that the values read from shared memory are the ones the views
# show: pg_locks_count against pg_locks (held, awaited and SIRead locks),
# pg_stat_activity_count and max_tx_duration against pg_stat_activity
# (states, users, applications, wait events), and pg_stat_database_* against
# pg_stat_database, on a database where only the test's sessions act.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# no per-database worker visits app: only the test's sessions act there
my ($node, $port) = new_prom_node('values',
	conf => "autovacuum = off\npg_prom.other_databases_interval = 0\n");
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 500)');

sub sample
{
	my ($text, $series) = @_;
	my ($v) = $text =~ /^\Q$series\E (\S+)$/m;
	return $v;
}

# holder: idle in transaction with a SHARE ROW EXCLUSIVE lock
my $holder = $node->background_psql('app');
$holder->query_safe("SET application_name = 'holder'; BEGIN; LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE;");
# reader: serializable, idle in transaction with an SIRead lock
my $reader = $node->background_psql('app');
$reader->query_safe("SET application_name = 'reader'; BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM t;");
# waiter: active, waiting for ACCESS EXCLUSIVE
my $waiter = $node->background_psql('app', on_error_stop => 0);
$waiter->query_safe("SET application_name = 'waiter'");
$waiter->query_until(qr/^$/, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'waiter' AND wait_event_type = 'Lock'")
  or die 'waiter did not block';
sleep 1.1;	# let max_tx_duration grow past one second

my $m = metrics_of($port);

# --- locks --------------------------------------------------------------------
my %view = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT m.mode, count(l.*)
	FROM unnest(ARRAY['accesssharelock','rowsharelock','rowexclusivelock',
	  'shareupdateexclusivelock','sharelock','sharerowexclusivelock',
	  'exclusivelock','accessexclusivelock','sireadlock']) AS m(mode)
	LEFT JOIN pg_locks l ON lower(l.mode) = m.mode
	  AND l.database = (SELECT oid FROM pg_database WHERE datname = 'app')
	GROUP BY m.mode});
for my $mode (sort keys %view)
{
	is(sample($m, qq{pg_locks_count{datname="app",mode="$mode"}}), $view{$mode},
		"pg_locks_count for $mode matches pg_locks ($view{$mode})");
}
ok($view{sharerowexclusivelock} >= 1 && $view{accessexclusivelock} >= 1 && $view{sireadlock} >= 1,
	'held, awaited and SIRead locks are all represented');

# --- activity -------------------------------------------------------------------
my $labels = 'datname="app",state="%s",usename="postgres",application_name="%s",backend_type="client backend",wait_event_type="%s",wait_event="%s"';
is(sample($m, 'pg_stat_activity_count{' . sprintf($labels, 'active', 'waiter', 'Lock', 'relation') . '}'),
	'1', 'the waiting session: active, waiting on Lock/relation');
is(sample($m, 'pg_stat_activity_count{' . sprintf($labels, 'idle in transaction', 'holder', 'Client', 'ClientRead') . '}'),
	'1', 'the holder: idle in transaction, reading from its client');
ok(sample($m, 'pg_stat_activity_max_tx_duration{' . sprintf($labels, 'idle in transaction', 'holder', 'Client', 'ClientRead') . '}') > 1,
	'max_tx_duration of the holder is over a second');
is(sample($m, 'pg_stat_activity_count{datname="app",state="idle",usename="",application_name="",backend_type="",wait_event_type="",wait_event=""}'),
	'0', 'an empty state is zero-filled');

# --- pg_stat_database --------------------------------------------------------------
my $dbstat = $node->safe_psql('postgres', q{
	SELECT numbackends, tup_inserted, xact_rollback, deadlocks
	FROM pg_stat_database WHERE datname = 'app'});
my ($nb, $ins, $rb, $dl) = split /\|/, $dbstat;
is(sample($m, 'pg_stat_database_numbackends{datid="' . $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'app'") . '",datname="app"}'),
	$nb, "numbackends matches pg_stat_database ($nb)");
like($m, qr/^pg_stat_database_tup_inserted\{datid="\d+",datname="app"\} $ins$/m,
	"tup_inserted matches pg_stat_database ($ins)");

# the waiter gets its lock once the others are gone
$holder->quit;
$reader->quit;
$waiter->quit;

# --- process_* (the endpoint) and pg_prom_server_* (the instance), from /proc ---
{
	my $pid = worker_pid($node);
	my $ticks = `getconf CLK_TCK`;
	chomp $ticks;
	open(my $sf, '<', "/proc/$pid/stat") or die "stat of $pid: $!";
	my @stat = split / /, (split /\) /, scalar <$sf>)[1];
	close $sf;
	open(my $bf, '<', '/proc/stat') or die;
	my ($btime) = map { /^btime (\d+)/ ? $1 : () } <$bf>;
	close $bf;
	my $start = $btime + $stat[19] / $ticks;
	$m = metrics_of($port);
	cmp_ok(abs(sample($m, 'process_start_time_seconds') - $start), '<', 0.02,
		'process_start_time_seconds is the endpoint process\'s start');
	my @fds = glob("/proc/$pid/fd/*");
	cmp_ok(abs(sample($m, 'process_open_fds') - scalar(@fds)), '<=', 2,
		'process_open_fds counts its descriptors (' . scalar(@fds) . ')');
	ok(sample($m, 'process_max_fds') >= sample($m, 'process_open_fds'), 'process_max_fds');
	ok(sample($m, 'process_resident_memory_bytes') > 1e6, 'process_resident_memory_bytes');
	like($m, qr/^pg_prom_server_processes\{backend_type="postmaster"\} 1$/m, 'the postmaster is one process');
	like($m, qr/^pg_prom_server_processes\{backend_type="checkpointer"\} 1$/m, 'and so is the checkpointer');
	like($m, qr/^pg_prom_server_processes\{backend_type="pg_prom collector"\} 1$/m,
		'background workers by their type');

	# a backend that burns CPU and exits: its time moves to "exited"
	sub cpu_total
	{
		my ($text) = @_;
		my $sum = 0;
		$sum += $_ for $text =~ /^pg_prom_server_cpu_seconds_total\{[^}]*\} (\S+)$/mg;
		return $sum;
	}
	sub cpu_of
	{
		my ($text, $type) = @_;
		return sample($text, "pg_prom_server_cpu_seconds_total{backend_type=\"$type\"}") // 0;
	}
	my $before = metrics_of($port);
	$node->safe_psql('postgres', 'SELECT count(*) FROM generate_series(1, 3000000)');
	# the backend's last slice reaches "exited" once the postmaster reaps it
	my $after;
	for my $try (1 .. 100)
	{
		$after = metrics_of($port);
		last if cpu_of($after, 'exited') - cpu_of($before, 'exited') > 0.1;
		sleep(0.1);
	}
	cmp_ok(cpu_total($after) - cpu_total($before), '>', 0.1,
		'the server\'s CPU counter grows by a busy backend\'s time');
	cmp_ok(cpu_of($after, 'exited') - cpu_of($before, 'exited'), '>', 0.1,
		'which is counted under "exited" when the backend ended between two scrapes');

	# a backend seen busy by a scrape keeps its time under its type once it ends:
	# no series goes down (rate() would read a reset)
	my $busy = $node->background_psql('postgres');
	$busy->query_safe('SELECT count(*) FROM generate_series(1, 3000000)');
	my $seen = metrics_of($port);
	my $busy_pid = $busy->query_safe('SELECT pg_backend_pid()');
	$busy_pid =~ s/\s+//g;
	$busy->quit;
	$node->poll_query_until('postgres',
		"SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $busy_pid)")
	  or die "backend $busy_pid did not end";
	my $gone = metrics_of($port);
	my @down;
	while ($seen =~ /^(pg_prom_server_cpu_seconds_total\{[^}]*\}) (\S+)$/mg)
	{
		my ($series, $v) = ($1, $2);
		my ($now) = $gone =~ /^\Q$series\E (\S+)$/m;
		push @down, "$series $v -> " . ($now // 'absent')
		  if !defined $now || $now < $v;
	}
	is(join(', ', @down), '', 'no CPU series goes down when a backend ends');
	cmp_ok(cpu_of($gone, 'client backend'), '>=', cpu_of($seen, 'client backend') ,
		'the client backends\' counter keeps the ended backend\'s time');
	cmp_ok(cpu_of($seen, 'client backend'), '>', 0.1, 'which was counted while it lived');
}

# --- postgres_exporter's health names ---------------------------------------------
$m = metrics_of($port);
like($m, qr/^pg_exporter_last_scrape_error 0$/m, 'pg_exporter_last_scrape_error is 0 when every collector succeeds');
like($m, qr/^pg_exporter_last_scrape_duration_seconds \S+$/m, 'pg_exporter_last_scrape_duration_seconds');
is(sample($m, 'pg_exporter_scrapes_total'), sample($m, 'pg_prom_scrapes_total'),
	'pg_exporter_scrapes_total is pg_prom_scrapes_total');
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_prom;
	SELECT pg_prom_register_query('fails', 'SELECT 1 / (pg_catalog.random() * 0)::int AS v', 'x')});
$m = metrics_of($port);
like($m, qr/^pg_scrape_collector_success\{collector="custom:fails"\} 0$/m, 'a failing custom query');
like($m, qr/^pg_exporter_last_scrape_error 1$/m, 'makes pg_exporter_last_scrape_error 1');

$node->stop;
check_log_clean($node);
done_testing();
