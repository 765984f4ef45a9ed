# Proves the subscription collector on a real logical replication pair: the
# subscriber's pg_prom shows the subscription enabled, its apply worker's
# progress, and counts the apply error of a duplicate key; the publisher's
# pg_stat_io (16+) and pg_stat_wal move with the writes.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($pub, $pubport) = new_prom_node('publisher', init => { allows_streaming => 'logical' });
$pub->start;
my ($sub, $subport) = new_prom_node('subscriber');
$sub->start;
ok(wait_for_endpoint($subport), 'subscriber endpoint answers');

$pub->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, v text);
	INSERT INTO items SELECT g, 'x' FROM generate_series(1, 100) g;
	CREATE PUBLICATION items_pub FOR TABLE items;
});
$sub->safe_psql('postgres', 'CREATE TABLE items (id int PRIMARY KEY, v text)');

my $m = metrics_of($subport);
unlike($m, qr/^pg_subscription_enabled\{/m, 'no subscription yet: no series');
like($m, qr/^# TYPE pg_stat_subscription_stats_apply_error_count_total counter$/m,
	'but the families are declared');

my $connstr = $pub->connstr() . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION items_sub CONNECTION '$connstr' PUBLICATION items_pub");
$sub->wait_for_subscription_sync($pub, 'items_sub');
$pub->safe_psql('postgres', "INSERT INTO items VALUES (101, 'y')");
$pub->wait_for_catchup('items_sub');

my $labels = '\{datname="postgres",subname="items_sub"\}';
$m = wait_for_metrics($subport,
	qr/^pg_stat_subscription_received_lsn_bytes$labels [1-9]/m);
ok(defined $m, 'the apply worker\'s received position')
  or $m = metrics_of($subport);
like($m, qr/^pg_subscription_enabled$labels 1$/m, 'the subscription is enabled');
like($m, qr/^pg_stat_subscription_workers$labels [1-9]\d*$/m, 'with its workers');
like($m, qr/^pg_stat_subscription_last_msg_receipt_timestamp_seconds$labels \d/m,
	'and the time of its last message');
like($m, qr/^pg_stat_subscription_stats_apply_error_count_total$labels 0$/m,
	'no apply error yet');
like($m, qr/^pg_stat_subscription_stats_sync_error_count_total$labels 0$/m,
	'no synchronization error');
unlike($m, qr/^pg_scrape_collector_success\{collector="subscription"\} 0$/m,
	'the collector succeeds');
if ($sub->safe_psql('postgres', 'SHOW server_version_num') >= 180000)
{
	like($m, qr/^pg_stat_subscription_stats_confl_insert_exists_total$labels 0$/m,
		'conflict counters from 18');
}
else
{
	unlike($m, qr/^pg_stat_subscription_stats_confl_insert_exists_total\{/m,
		'no conflict counters before 18');
}

# a row the subscriber already has: applying the insert fails on the key
$sub->safe_psql('postgres', "INSERT INTO items VALUES (102, 'local')");
$pub->safe_psql('postgres', "INSERT INTO items VALUES (102, 'remote')");
$m = wait_for_metrics($subport,
	qr/^pg_stat_subscription_stats_apply_error_count_total$labels [1-9]/m, 60);
ok(defined $m, 'the apply error is counted');
$sub->safe_psql('postgres', 'ALTER SUBSCRIPTION items_sub DISABLE');
$m = wait_for_metrics($subport, qr/^pg_subscription_enabled$labels 0$/m);
ok(defined $m, 'a disabled subscription says so');

# the publisher: WAL and, from 16, I/O by backend type
my $pm = metrics_of($pubport);
like($pm, qr/^pg_stat_wal_records_total [1-9]/m, 'the publisher\'s WAL records');
if ($pub->safe_psql('postgres', 'SHOW server_version_num') >= 160000)
{
	like($pm, qr/^pg_stat_io_writes_total\{backend_type="checkpointer",object="relation",context="normal"\} \d+$/m,
		'pg_stat_io by backend type, object and context');
	like($pm, qr/^pg_stat_io_read_bytes_total\{backend_type="client backend",object="relation",context="normal"\} \d+$/m,
		'with bytes');
}

$sub->safe_psql('postgres', 'DROP SUBSCRIPTION items_sub');
$m = metrics_of($subport);
unlike($m, qr/^pg_subscription_enabled\{/m, 'a dropped subscription disappears');

$sub->stop;
$pub->stop;
check_log_clean($_) for ($pub, $sub);
done_testing();
