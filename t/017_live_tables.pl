# Per-table and per-index numbers of every database, live from the shared
# statistics at every scrape (not at the pace of the per-database workers,
# which only read names and sizes): a new database shows its table within
# seconds; rows written in another database are in the next scrape once
# the writer's statistics are flushed; a dropped table or database is gone
# at the next scrape; index scans are counted per index; and with
# pg_prom.max_tables the tables beyond the limit are folded into one
# "[other]" series whose sums keep the totals.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

# names refreshed only on demand here: an hour between rounds
my ($node, $port) = new_prom_node('live', conf => qq{
pg_prom.other_databases_interval = 3600
pg_prom.slow_collector_interval = 0
pg_prom.max_tables = 3
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

# --- a database created after start --------------------------------------------
metrics_of($port);
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE TABLE fresh_t (id int PRIMARY KEY, v text); INSERT INTO fresh_t SELECT g, \'x\' FROM generate_series(1, 100) g');
my $t0 = time;
my $m = wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="fresh",schemaname="public",relname="fresh_t"\} 100$/m, 20);
my $took = time - $t0;
ok($m, 'a database created after start shows its table');
cmp_ok($took, '<', 10, "within seconds ($took s), with an hour between rounds");

# --- rows written in another database: the next scrape has them ---------------
$node->safe_psql('fresh', 'INSERT INTO fresh_t SELECT g, \'y\' FROM generate_series(101, 200) g');
# The writer's backend publishes its numbers when it exits, which may be
# just after psql returned: the first scrape after that has them.
$m = wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="fresh",schemaname="public",relname="fresh_t"\} 200$/m, 10);
ok($m, '100 more rows in another database are in the next scrape');
like($m, qr/^pg_stat_user_tables_n_live_tup\{datname="fresh",schemaname="public",relname="fresh_t"\} 200$/m,
	'and its live rows');

# --- index statistics, per index ---------------------------------------------
$node->safe_psql('fresh', 'SET enable_seqscan = off; SELECT * FROM fresh_t WHERE id = 7; SELECT * FROM fresh_t WHERE id = 8');
$m = wait_for_metrics($port, qr/^pg_stat_user_indexes_idx_scan_total\{datname="fresh",schemaname="public",relname="fresh_t",indexrelname="fresh_t_pkey"\} 2$/m, 10);
ok($m, 'index scans are counted per index');
like($m, qr/^pg_stat_user_tables_idx_scan\{datname="fresh",schemaname="public",relname="fresh_t"\} 2$/m,
	'and summed for the table, as pg_stat_user_tables does');
my $view = $node->safe_psql('fresh', q{
	SELECT idx_scan || ' ' || idx_tup_fetch || ' ' || n_tup_ins || ' ' || seq_scan
	FROM pg_stat_user_tables WHERE relname = 'fresh_t'});
my ($idx_scan, $idx_tup_fetch, $ins, $seq) = split / /, $view;
like($m, qr/^pg_stat_user_tables_idx_tup_fetch\{datname="fresh",schemaname="public",relname="fresh_t"\} $idx_tup_fetch$/m,
	'idx_tup_fetch equals the view\'s');

# --- a dropped table, a dropped database ----------------------------------------
$node->safe_psql('fresh', 'CREATE TABLE doomed (id int); INSERT INTO doomed VALUES (1)');
ok(wait_for_metrics($port, qr/relname="doomed"/, 20), 'a new table of another database is named after a refresh on demand');
$node->safe_psql('fresh', 'DROP TABLE doomed');
unlike(metrics_of($port), qr/relname="doomed"/, 'a dropped table is gone at the next scrape');

# A catalog read just before a DROP and handed over after it still lists the
# dropped table: it must stay out, not come back with zeros.  The hidden
# pg_prom.test_catalog_handoff_delay holds the per-database worker between
# the two.
{
	$node->safe_psql('fresh', 'CREATE TABLE doomed2 (id int); INSERT INTO doomed2 VALUES (1)');
	ok(wait_for_metrics($port, qr/relname="doomed2"/, 20), 'another table is named');
	my ($rc, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET pg_prom.test_catalog_handoff_delay = '1h'");
	like($err, qr/outside the valid range for parameter "pg_prom.test_catalog_handoff_delay" \(0 /,
		'the test delay is bounded (at most 10 s)');
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.test_catalog_handoff_delay = '3s'");
	$node->reload;
	sleep 0.5;
	# a table the collector cannot name makes the next scrapes ask for the
	# catalog again
	$node->safe_psql('fresh', 'CREATE TABLE newer (id int); INSERT INTO newer VALUES (1)');
	my $held = 0;
	for my $try (1 .. 100)
	{
		metrics_of($port);
		$held = $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE datname = 'fresh' AND query = 'pg_prom: test delay before the hand-over'");
		last if $held;
		sleep 0.1;
	}
	ok($held, 'a per-database worker has read the catalog and waits before handing it over');
	$node->safe_psql('fresh', 'DROP TABLE doomed2');
	my ($named, $shown) = (0, 0);
	for my $try (1 .. 100)
	{
		my $s = metrics_of($port);
		$shown++ if $s =~ /relname="doomed2"/;
		if ($s =~ /relname="newer"/)
		{
			$named = 1;
			last;
		}
		sleep 0.1;
	}
	ok($named, 'the catalog read before the DROP was handed over (it names the newer table)');
	is($shown, 0, 'no scrape showed the dropped table again');
	$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_prom.test_catalog_handoff_delay');
	$node->reload;
}
$node->safe_psql('postgres', 'DROP DATABASE fresh');
$m = metrics_of($port);
unlike($m, qr/datname="fresh"/, 'a dropped database is gone at the next scrape, sizes included');

# --- the limit: the least active tables folded into [other] -------------------
$node->safe_psql('postgres', 'CREATE DATABASE many');
$node->safe_psql('many', join('', map {
	"CREATE TABLE t$_ (id int PRIMARY KEY); INSERT INTO t$_ SELECT generate_series(1, $_ * 10);" } 1 .. 6));
# t4..t6 are the busiest; scans on t5 make it the most active
$node->safe_psql('many', 'SELECT count(*) FROM t5; SELECT count(*) FROM t5; SELECT count(*) FROM t6;');
$m = wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="many",schemaname="\[other\]",relname="\[other\]"\} /m, 20);
ok($m, 'beyond pg_prom.max_tables the tables are folded into [other]');
my @own = $m =~ /^pg_stat_user_tables_n_tup_ins\{datname="many",schemaname="public",relname="(t\d)"\} /mg;
is(scalar(@own), 3, 'pg_prom.max_tables tables keep their own series');
ok((grep { $_ eq 't5' } @own), 'the most active table among them');
my $sum = 0;
$sum += $_ for $m =~ /^pg_stat_user_tables_n_tup_ins\{datname="many",[^}]*\} (\d+)$/mg;
is($sum, 10 * (1 + 2 + 3 + 4 + 5 + 6), 'the sums of own and [other] series equal the database total');
like($m, qr/^pg_prom_collector_objects_left_out\{collector="stat_user_tables"\} 3$/m,
	'the folded tables are counted as left out');
like($m, qr/^pg_stat_user_indexes_idx_scan_total\{datname="many",schemaname="\[other\]",relname="\[other\]",indexrelname="\[other\]"\} /m,
	'indexes of folded tables are folded too');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector succeeds');

# a table literally named [other] in a schema named [other] cannot pose as the fold
$node->safe_psql('many', 'CREATE SCHEMA "[other]"; CREATE TABLE "[other]"."[other]" (id int); INSERT INTO "[other]"."[other]" VALUES (1), (2); CREATE TABLE marker (id int); INSERT INTO marker VALUES (1)');
# once the catalog is read again the marker's row is in the totals (own
# series plus the fold: 211), the impostor's two rows are not
sub many_total
{
	my ($text) = @_;
	my $total = 0;
	$total += $_ for $text =~ /^pg_stat_user_tables_n_tup_ins\{datname="many",[^}]*\} (\d+)$/mg;
	return $total;
}
my $deadline = time + 20;
do { $m = metrics_of($port); sleep 0.2 if many_total($m) != 211 } while (many_total($m) != 211 && time < $deadline);
is(many_total($m), 211, 'a new table beyond the limit is folded: own and [other] series add up to every row');
my @others = $m =~ /^pg_stat_user_tables_n_tup_ins\{datname="many",schemaname="\[other\]",relname="\[other\]"\} /mg;
is(scalar(@others), 1, 'a table named like the fold is left out: one [other] series, without its rows');
like($m, qr/^pg_prom_duplicate_series_dropped_total 0$/m, 'and nothing was dropped as a duplicate');

# a new pg_prom.max_tables takes effect at the next scrape, not at the next
# choice of tables a minute later
$node->safe_psql('postgres', 'ALTER SYSTEM SET pg_prom.max_tables = 2; SELECT pg_reload_conf()');
$m = wait_for_metrics($port, qr/^pg_prom_collector_objects_left_out\{collector="stat_user_tables"\} 5$/m, 10);
ok($m, 'a lower pg_prom.max_tables applies at once');
@own = ($m // '') =~ /^pg_stat_user_tables_n_tup_ins\{datname="many",schemaname="public",relname="(\w+)"\} /mg;
is(scalar(@own), 2, 'two tables keep their own series');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_prom.max_tables; SELECT pg_reload_conf()');

# --- a database whose lock another session holds does not hold up the others ---
# (ALTER DATABASE RENAME keeps it to the end of its transaction; a
# per-database worker must not wait for it with the one job slot)
$node->safe_psql('postgres', 'CREATE DATABASE held; CREATE DATABASE victim');
wait_for_metrics($port, qr/^pg_stat_database_numbackends\{[^}]*datname="victim"\}/m, 10);
$node->safe_psql('held', 'CREATE TABLE held_t (id int); INSERT INTO held_t VALUES (1)');
my $renamer = $node->background_psql('postgres');
$renamer->query_safe('BEGIN; ALTER DATABASE held RENAME TO held_x');
$m = metrics_of($port);    # meets held_t, which it cannot name: a worker is sent
$node->safe_psql('victim', 'CREATE TABLE victim_t (id int); INSERT INTO victim_t VALUES (1)');
$t0 = time;
$m = wait_for_metrics($port, qr/^pg_stat_user_tables_n_tup_ins\{datname="victim",schemaname="public",relname="victim_t"\} 1$/m, 20);
$took = time - $t0;
ok($m, 'a table of another database is named while one database is locked');
cmp_ok($took, '<', 10, "within seconds ($took s)");
$renamer->query_safe('ROLLBACK');
$renamer->quit;
ok(wait_for_metrics($port, qr/relname="held_t"/, 70), 'and the locked one once its lock is free (retries back off up to a minute)');

$node->stop;
check_log_clean($node);
done_testing();
