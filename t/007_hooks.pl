# Proves the counters fed by hooks in every backend: statement latency
# histograms move exactly with the statements run, errors are counted once
# by SQLSTATE (division by zero, unique violation, deadlock, statement
# timeout, failed password), authentication outcomes keep a password-less
# probe apart from a failure, and the hooks keep counting after a
# crash-restart of the cluster.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('hooks', conf => qq{
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'pg_prom, pg_stat_statements'
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');
$node->safe_psql('postgres', q{
	CREATE ROLE app LOGIN PASSWORD 'secret';
	CREATE TABLE u (id int PRIMARY KEY);
	CREATE TABLE d1 (id int); CREATE TABLE d2 (id int);
	INSERT INTO d1 VALUES (1); INSERT INTO d2 VALUES (1);
	GRANT ALL ON u, d1, d2 TO app;
});
# password authentication for TCP connections of the app role, first in pg_hba.conf
{
	my $hba = $node->data_dir . '/pg_hba.conf';
	my $old = PostgreSQL::Test::Utils::slurp_file($hba);
	open(my $fh, '>', $hba) or die;
	print $fh "host all app 127.0.0.1/32 scram-sha-256\n" . $old;
	close $fh;
	$node->reload;
}

my $select = 'pg_statement_duration_seconds_count{datname="postgres",command="select"}';
my $insert = 'pg_statement_duration_seconds_count{datname="postgres",command="insert"}';

sub delta
{
	my ($series, $code) = @_;
	my $before = sample_of(metrics_of($port), $series);
	$code->();
	my $after = sample_of(metrics_of($port), $series);
	return $after - $before;
}

# --- latency histograms ------------------------------------------------------
is(delta($select, sub { $node->safe_psql('postgres', join('', map { "SELECT $_;" } 1 .. 10)) }),
	10, '10 SELECTs add exactly 10 to the select series of their database');
is(delta($insert, sub { $node->safe_psql('postgres', 'INSERT INTO u VALUES (1); INSERT INTO u VALUES (2)') }),
	2, '2 INSERTs add exactly 2 to the insert series');
is(delta($select, sub {
	$node->safe_psql('postgres', q{
		CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN PERFORM 1; PERFORM 2; RETURN 3; END';
		SELECT f();
		PREPARE p AS SELECT 1; EXECUTE p; EXECUTE p;})
	}), 3, 'nested statements are not counted again; EXECUTE counts as its statement');

# statements run while planning belong to the statement planned
is(delta($select, sub {
	$node->safe_psql('postgres', q{
		CREATE FUNCTION imm(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql
		  AS 'DECLARE r int; BEGIN SELECT x + 1 INTO r; SELECT r + 1 INTO r; RETURN r; END';
		SELECT imm(1);})
	}), 1, 'an IMMUTABLE function with two queries, folded while planning, counts once');

# a cursor fetched in several steps: its query runs inside the FETCHes,
# each of them one statement; the query itself is not counted again
my $utility = 'pg_statement_duration_seconds_count{datname="postgres",command="utility"}';
{
	my $before = metrics_of($port);
	$node->safe_psql('postgres', q{
		BEGIN;
		DECLARE c CURSOR FOR SELECT g FROM generate_series(1, 10) g;
		FETCH 3 FROM c; FETCH 3 FROM c; FETCH ALL FROM c;
		CLOSE c;
		COMMIT;});
	my $after = metrics_of($port);
	is(sample_of($after, $select) - sample_of($before, $select), 0,
		'a cursor fetched in several steps adds no select of its own');
	is(sample_of($after, $utility) - sample_of($before, $utility), 7,
		'and each of its 7 statements (BEGIN, DECLARE, 3 FETCH, CLOSE, COMMIT) counts once');
}

# a statement that fails in a subtransaction leaves no start time behind
{
	my $sum = 'pg_statement_duration_seconds_sum{datname="postgres",command="select"}';
	my $slow = 'pg_statement_duration_seconds_bucket{datname="postgres",command="select",le="1"}';
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query("BEGIN; SAVEPOINT s; SELECT 1/0; ROLLBACK TO s; COMMIT;");
	# 100 failing savepoints would have filled a fixed table of open statements
	$bg->query(join('', map { "BEGIN; SAVEPOINT s$_; SELECT 1/0; ROLLBACK TO s$_; COMMIT;" } 1 .. 100));
	sleep 2;
	my $before = metrics_of($port);
	$bg->query(join(q{}, map { "SELECT $_;" } 1 .. 50));
	$bg->quit;
	my $after = metrics_of($port);
	is(sample_of($after, $select) - sample_of($before, $select), 50,
		'after 101 failed savepoints every statement is still timed');
	ok(sample_of($after, $sum) - sample_of($before, $sum) < 1,
		sprintf('and none is timed from a stale start (sum grew %.3f s for 50 trivial SELECTs)',
			sample_of($after, $sum) - sample_of($before, $sum)));
	is(sample_of($after, $slow) - sample_of($before, $slow), 50,
		'all 50 land in the buckets up to 1 s');
}

my $m = metrics_of($port);
like($m, qr/^pg_statement_duration_seconds_bucket\{datname="postgres",command="select",le="0.0005"\} \d+$/m,
	'sub-millisecond bucket');
like($m, qr/^pg_statement_duration_seconds_bucket\{datname="postgres",command="utility",le="\+Inf"\} [1-9]/m,
	'utility statements have their series');
like($m, qr/^pg_transaction_duration_seconds_count\{datname="postgres"\} [1-9]/m, 'transactions are timed');

# --- errors, each counted once ------------------------------------------------
sub error_delta
{
	my ($code_sqlstate, $condition, $action) = @_;
	return delta(qq{pg_error_codes_total{sqlstate="$code_sqlstate",condition="$condition"}}, $action);
}
is(error_delta('22012', 'division_by_zero', sub { $node->psql('postgres', 'SELECT 1/0') }), 1,
	'division by zero counted once');
is(delta('pg_errors_total{severity="ERROR",sqlstate_class="23"}', sub { $node->psql('postgres', 'INSERT INTO u VALUES (1)') }), 1,
	'unique violation counted once in its class');
is(error_delta('57014', 'query_canceled', sub { $node->psql('postgres', "SET statement_timeout = '100ms'; SELECT pg_sleep(2)") }), 1,
	'statement timeout counted once');
is(error_delta('40P01', 'deadlock_detected', sub {
	cause_deadlock($node, 'postgres');
}), 1, 'deadlock counted once');

# --- authentication ------------------------------------------------------------
my $connstr = "host=127.0.0.1 port=" . $node->port . " dbname=postgres user=app";
my $fail = 'pg_auth_attempts_total{result="failure",method="scram-sha-256"}';
my $ok = 'pg_auth_attempts_total{result="success",method="scram-sha-256"}';
my $aborted = 'pg_auth_attempts_total{result="client_aborted",method="scram-sha-256"}';

my $before = metrics_of($port);
{
	local $ENV{PGPASSWORD} = 'wrong';
	my ($rc) = $node->psql('postgres', 'SELECT 1', connstr => $connstr);
	isnt($rc, 0, 'a wrong password is refused');
}
my $after = metrics_of($port);
is(sample_of($after, $fail) - sample_of($before, $fail), 1, 'the failed login is counted once');
is(sample_of($after, 'pg_error_codes_total{sqlstate="28P01",condition="invalid_password"}')
	- sample_of($before, 'pg_error_codes_total{sqlstate="28P01",condition="invalid_password"}'), 1,
	'and its invalid_password error once');

$before = $after;
{
	# psql's first attempt: no password at hand, it hangs up when asked
	delete local $ENV{PGPASSWORD};
	my ($rc) = $node->psql('postgres', 'SELECT 1', connstr => $connstr, extra_params => ['-w']);
	isnt($rc, 0, 'a password-less attempt cannot log in');
	local $ENV{PGPASSWORD} = 'secret';
	is($node->safe_psql('postgres', 'SELECT 1', connstr => $connstr), '1', 'then the right password does');
}
# the probe's backend counts the hang-up when it reads it, which may be
# after psql has exited: wait for it (bounded)
for my $try (1 .. 50)
{
	$after = metrics_of($port);
	last if sample_of($after, $aborted) > sample_of($before, $aborted);
	sleep 0.2;
}
is(sample_of($after, $fail) - sample_of($before, $fail), 0, 'the password-less probe is not a failure');
is(sample_of($after, $aborted) - sample_of($before, $aborted), 1, 'it is counted as client_aborted');
is(sample_of($after, $ok) - sample_of($before, $ok), 1, 'and the good login as success');

# a role's CONNECTION LIMIT is its owner's business, not the server's slots
{
	$node->safe_psql('postgres', 'ALTER ROLE app CONNECTION LIMIT 0');
	local $ENV{PGPASSWORD} = 'secret';
	my $exhausted = 'pg_error_codes_total{sqlstate="53300",condition="too_many_connections"}';
	my $class = 'pg_errors_total{severity="FATAL",sqlstate_class="53"}';
	$before = metrics_of($port);
	my ($rc, $out, $err) = $node->psql('postgres', 'SELECT 1', connstr => $connstr);
	like($err, qr/too many connections for role/, 'a role over its CONNECTION LIMIT is refused');
	$after = metrics_of($port);
	is(sample_of($after, $exhausted) - sample_of($before, $exhausted), 0,
		'without firing the server-wide too_many_connections count');
	is(sample_of($after, $class) - sample_of($before, $class), 1, 'counted in its class only');
	$node->safe_psql('postgres', 'ALTER ROLE app CONNECTION LIMIT -1');
}

# --- connection-slot pressure ----------------------------------------------------
{
	my $idle = $node->background_psql('postgres');
	$idle->query_safe('BEGIN; SELECT 1;');
	sleep 1.1;
	$m = metrics_of($port);
	is(sample_of($m, 'pg_connections_max'), 100, 'max_connections');
	ok(sample_of($m, 'pg_connections_used') >= 1, 'sessions in use');
	ok(sample_of($m, 'pg_oldest_idle_in_transaction_age_seconds') > 1, 'the idle-in-transaction session is seen');
	ok(sample_of($m, 'pg_backends_by_database{datname="postgres"}') >= 1, 'sessions by database');
	$idle->quit;
}

# --- pg_stat_statements, bounded -------------------------------------------------
{
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');
	$node->safe_psql('postgres', join('', map { "SELECT $_ AS c$_;" } 1 .. 30));
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.stat_statements_limit = 5");
	$node->reload;
	# the remainder series appears once the collector has the new limit
	my $text = wait_for_metrics($port,
		qr/^pg_stat_statements_calls_total\{user="\[other\]",datname="\[other\]",queryid="other"\} /m, 10)
	  // metrics_of($port);
	my @calls = $text =~ /^pg_stat_statements_calls_total\{([^}]*)\} (\S+)$/mg;
	my %series = @calls;
	is(scalar(keys %series), 6, 'top 5 statements plus one remainder series');
	ok(exists $series{'user="[other]",datname="[other]",queryid="other"'}, 'the remainder series');
	my $sum = 0;
	$sum += $_ for values %series;
	is($sum, $node->safe_psql('postgres', 'SELECT sum(calls) FROM pg_stat_statements'),
		'the series add up to every call pg_stat_statements counted');
	unlike($text, qr/pg_stat_statements_calls_total\{[^}]*query=/, 'no query text in labels');
}

# --- crash-restart: the hooks come back with fresh counters --------------------------
my $victim = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
chomp $pid;					# 16.0's BackgroundPsql keeps the newline
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset),
	'the kill -9 of a backend makes the postmaster reinitialize');
eval { $victim->quit };
$node->poll_query_until('postgres', 'SELECT true') or die;
ok(wait_for_endpoint($port, 60), 'the endpoint is back after the crash-restart');
is(delta($select, sub { $node->safe_psql('postgres', join('', map { "SELECT $_;" } 1 .. 10)) }),
	10, 'the hooks count again after the crash-restart');
ok(sample_of(metrics_of($port), 'pg_prom_scrapes_total') < 20, 'counters started again from zero');

$node->stop;
check_log_clean($node, $pid);

# --- a dropped database's slot goes to a new database ------------------------
{
	my ($n2, $p2) = new_prom_node('slots', conf => "pg_prom.max_databases = 2\n");
	$n2->start;
	ok(wait_for_endpoint($p2), 'endpoint with two database slots answers');
	$n2->safe_psql('postgres', 'CREATE DATABASE a');
	$n2->safe_psql('postgres', 'CREATE DATABASE b');
	$n2->safe_psql('a', 'SELECT 1');    # postgres and a take the two slots
	$n2->safe_psql('b', 'SELECT 1');
	my $m = metrics_of($p2);
	like($m, qr/^pg_transaction_duration_seconds_count\{datname="a"\} /m, 'a has its slot');
	unlike($m, qr/^pg_(?:statement|transaction)_duration_seconds_count\{datname="b"/m,
		'b, the third database, has none');
	like($m, qr/^pg_transaction_duration_seconds_count\{datname="\[other\]"\} /m,
		'it is counted under [other]');
	$n2->safe_psql('postgres', 'DROP DATABASE a');
	$m = metrics_of($p2);    # the scrape finds a gone and frees its slot
	unlike($m, qr/datname="a"/, 'the dropped database has no series');
	$n2->safe_psql('b', 'SELECT 1');    # a new session of b takes the slot
	like(metrics_of($p2), qr/^pg_statement_duration_seconds_count\{datname="b",command="select"\} 1$/m,
		'b now has the freed slot, its counters starting from zero');
	# a database named like the fold takes a real slot: it does not pose as the fold
	my $fold = sample_of(metrics_of($p2), 'pg_transaction_duration_seconds_count{datname="[other]"}');
	$n2->safe_psql('postgres', 'DROP DATABASE b');
	metrics_of($p2);    # frees b's slot
	$n2->safe_psql('postgres', 'CREATE DATABASE "[other]"');
	$n2->safe_psql('[other]', 'SELECT 1; SELECT 2; SELECT 3');
	$m = metrics_of($p2);
	my @folds = $m =~ /^pg_transaction_duration_seconds_count\{datname="\[other\]"\} (\S+)$/mg;
	is_deeply(\@folds, [$fold], 'a database named "[other]" leaves the fold alone');
	like($m, qr/^pg_prom_duplicate_series_dropped_total 0$/m, 'and nothing was dropped as a duplicate');
	$n2->stop;
	check_log_clean($n2);
}
done_testing();
