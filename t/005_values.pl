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

my ($node, $port) = new_prom_node('values', conf => "autovacuum = off\n");
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

$node->stop;
check_log_clean($node);
done_testing();
