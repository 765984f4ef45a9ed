# Proves the worker on a streaming hot standby: it starts once the standby
# is consistent, every collector succeeds read-only, and it keeps serving
# across a promotion.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($primary, $pport) = new_prom_node('primary', init => { allows_streaming => 1 });
$primary->start;
ok(wait_for_endpoint($pport), 'primary endpoint answers');
$primary->backup('b1');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
my $sport = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', "pg_prom.port = $sport\n");
$standby->start;
$primary->safe_psql('postgres', 'CREATE TABLE t AS SELECT 1 AS a');
$primary->wait_for_catchup($standby);

ok(wait_for_endpoint($sport), 'standby endpoint answers');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'it is a standby');
my $m = metrics_of($sport);
like($m, qr/^pg_up 1$/m, 'pg_up 1 on the standby');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector succeeds on the standby');
like($m, qr/^pg_stat_activity_count\{datname="postgres",state="active"/m, 'activity on the standby');
like($m, qr/^pg_replication_is_replica 1$/m, 'the standby says it is a replica');
is(http_get($sport, '/replica')->{status}, 200, '/replica is 200 on the standby');
is(http_get($sport, '/primary')->{status}, 503, '/primary is 503 on the standby');
is(http_get($sport, '/ready')->{status}, 200, '/ready on the standby');
like($m, qr/^pg_replication_lag_seconds \d/m, 'with its replication lag');
like($m, qr/^pg_replication_lag \d/m, 'also under the classic name');
like($m, qr/^pg_stat_user_tables_n_live_tup\{datname="postgres",schemaname="public",relname="t"\} /m,
	'per-table statistics on the standby');
if ($standby->safe_psql('postgres', 'SHOW server_version_num') >= 190000)
{
	# pg_stat_recovery (19): replay position and pause state
	like($m, qr/^pg_stat_recovery_last_replayed_end_lsn_bytes [1-9]/m, 'pg_stat_recovery: replay position');
	like($m, qr/^pg_stat_recovery_paused\{pause_state="not paused"\} 1$/m, 'replay not paused');
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
	ok(defined wait_for_metrics($sport, qr/^pg_stat_recovery_paused\{pause_state="(pause requested|paused)"\} 1$/m),
		'a pause shows');
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
}
else
{
	unlike($m, qr/^pg_stat_recovery_/m, 'no pg_stat_recovery before 19');
}
my $pm = metrics_of($pport);
unlike($pm, qr/^pg_stat_recovery_paused\{/m, 'no recovery state on the primary');
like($pm, qr/^pg_stat_replication_pg_wal_lsn_diff\{application_name="standby",client_addr="[^"]*",state="streaming",slot_name="",pid="\d+"\} \d/m,
	'the primary reports its walsender to the standby');
like($pm, qr/^pg_replication_is_replica 0$/m, 'the primary says it is not a replica');

$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
$m = metrics_of($sport);
like($m, qr/^pg_up 1$/m, 'still serving after promotion');
like($m, qr/^pg_replication_is_replica 0$/m, 'and no longer a replica');
is(http_get($sport, '/primary')->{status}, 200, '/primary is 200 after promotion');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector succeeds after promotion');

$standby->stop;
$primary->stop;
check_log_clean($_) for ($primary, $standby);
done_testing();
