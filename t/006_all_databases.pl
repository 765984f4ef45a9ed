# Proves per-table statistics for every database without a connection per
# database: tables of other databases appear with their datname, and the
# short-lived per-database workers never block DROP DATABASE, ALTER
# DATABASE RENAME or CREATE DATABASE ... TEMPLATE.  Also proves that a
# table held in ACCESS EXCLUSIVE mode during a scrape is skipped and
# counted by the size collector instead of blocking the scrape.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('alldbs', conf => qq{
pg_prom.other_databases_interval = 1
pg_prom.slow_collector_interval = 0
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

$node->safe_psql('postgres', 'CREATE TABLE own_t (id int PRIMARY KEY)');
for my $db (qw(app1 app2))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE TABLE ${db}_t (id int PRIMARY KEY, v text); INSERT INTO ${db}_t SELECT g, 'x' FROM generate_series(1, 100) g");
}


# A round may have read app1 before its table was committed, and a database
# is read again at most every 2 s: wait for each.
ok(wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="app1",schemaname="public",relname="app1_t"\} 100$/m),
	'a table of another database appears with its datname and values');
my $m = wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="app2",schemaname="public",relname="app2_t"\} 100$/m);
ok($m, 'and so does every other database');
like($m, qr/^pg_stat_user_tables_seq_scan\{datname="postgres",schemaname="public",relname="own_t"\} /m,
	"the worker's own database is read live");
like($m, qr/^pg_stat_user_tables_table_size_bytes\{datname="app1",schemaname="public",relname="app1_t"\} [1-9]/m,
	'sizes of other databases too');
like($m, qr/^pg_prom_database_tables_age_seconds\{datname="app1"\} /m, 'with the age of the rows');
unlike($m, qr/datname="template[01]",schemaname/, 'templates are never visited');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector succeeds');

# --- vacuum progress names the relations of every database --------------------
{
	$node->safe_psql('app1', 'CREATE SCHEMA s; CREATE TABLE s.big AS SELECT g AS id, repeat(\'x\', 100) AS v FROM generate_series(1, 50000) g; DELETE FROM s.big WHERE id % 2 = 0');
	$node->safe_psql('postgres', 'CREATE TABLE big_own AS SELECT g AS id, repeat(\'x\', 100) AS v FROM generate_series(1, 50000) g; DELETE FROM big_own WHERE id % 2 = 0');
	ok(wait_for_metrics($port, qr/^pg_stat_user_tables_seq_scan\{datname="app1",schemaname="s",relname="big"\}/m),
		'the table to vacuum is known from the per-database worker');
	my @vacuums;
	for my $target (['app1', 's.big'], ['postgres', 'big_own'])
	{
		my $bg = $node->background_psql($target->[0], on_error_stop => 0);
		$bg->query_safe('SET vacuum_cost_delay = 50; SET vacuum_cost_limit = 1;');
		$bg->query_until(qr/^$/, "VACUUM $target->[1];\n");
		push @vacuums, $bg;
	}
	my $seen = wait_for_metrics($port, qr/^pg_stat_progress_vacuum_phase\{datname="app1",relname="s.big",phase="scanning heap"\} 1$/m);
	ok($seen, 'a VACUUM in another database shows with its schema-qualified relation name');
	# The two VACUUMs start one after the other: wait for the second too.
	ok(wait_for_metrics($port, qr/^pg_stat_progress_vacuum_heap_blks\{datname="postgres",relname="big_own"\} [1-9]/m),
		"and one in the worker's own database with its bare name");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'VACUUM %'");
	$_->quit for @vacuums;
}

# --- DDL on databases is never blocked by the per-database workers -----------
my $failures = 0;
for my $i (1 .. 5)
{
	my ($rc, $out, $err) = $node->psql('postgres', "CREATE DATABASE tmp_$i TEMPLATE app1");
	$failures++ if $rc != 0;
	diag($err) if $rc != 0;
	sleep 0.3;
	($rc, $out, $err) = $node->psql('postgres', "ALTER DATABASE tmp_$i RENAME TO tmp_${i}_renamed");
	$failures++ if $rc != 0;
	diag($err) if $rc != 0;
	sleep 0.3;
	($rc, $out, $err) = $node->psql('postgres', "DROP DATABASE tmp_${i}_renamed");
	$failures++ if $rc != 0;
	diag($err) if $rc != 0;
}
is($failures, 0, 'CREATE DATABASE ... TEMPLATE, ALTER DATABASE RENAME and DROP DATABASE all succeed while rounds run');

$node->safe_psql('postgres', 'ALTER DATABASE app2 RENAME TO app2_new');
ok(wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="app2_new",schemaname="public",relname="app2_t"\} 100$/m),
	'a renamed database shows up under its new name');
$node->safe_psql('postgres', 'DROP DATABASE app2_new');
$m = wait_for_metrics($port, qr/^pg_stat_user_tables_seq_scan\{datname="app1"/m);
sleep 2;
$m = metrics_of($port);
unlike($m, qr/datname="app2(_new)?",schemaname/, 'a dropped database disappears');

is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name = 'pg_prom tables'"),
	'0', 'the per-database workers are never client connections');

# --- a table held by a migration is skipped, not waited for ---------------------
{
	$node->safe_psql('postgres', 'CREATE TABLE free_t (id int)');
	# (names of pg_prom.database are read again at most every 2 s)
	ok(wait_for_metrics($port, qr/relname="free_t"/, 10), 'the new table is named');
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('BEGIN; LOCK TABLE own_t IN ACCESS EXCLUSIVE MODE;');
	my $t0 = time;
	my $r = http_get($port, '/metrics');
	my $took = time - $t0;
	is($r->{status}, 200, 'scrape answers while a table is locked');
	ok($took < 3, "promptly ($took s)");
	unlike($r->{content}, qr/^pg_stat_user_tables_table_size_bytes\{datname="postgres",schemaname="public",relname="own_t"\}/m,
		'the locked table has no size this scrape');
	like($r->{content}, qr/^pg_stat_user_tables_table_size_bytes\{datname="postgres",schemaname="public",relname="free_t"\} /m,
		'the other tables have theirs');
	like($r->{content}, qr/^pg_prom_collector_relations_skipped_locked\{collector="table_sizes"\} 1$/m,
		'the skipped table is counted');
	like($r->{content}, qr/^pg_stat_user_tables_seq_scan\{datname="postgres",schemaname="public",relname="own_t"\} /m,
		'its statistics (which take no lock) are still there');
	unlike($r->{content}, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'and every collector succeeds');
	$bg->query_safe('COMMIT;');
	$bg->quit;
}

$node->stop;
check_log_clean($node);
done_testing();
