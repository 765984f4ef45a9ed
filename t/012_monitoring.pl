# Proves the monitoring kit under monitoring/ against the real thing: the
# Prometheus configuration and rules pass promtool, every alert's unit tests
# pass, and a real Prometheus, running the shipped prometheus.yml with file
# service discovery, scrapes a primary and its streaming standby (each with
# pg_prom) under some workload, then answers every dashboard query and every
# alert expression with data.  The fleet view: both servers appear with
# their roles and the replication lag between them.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use File::Copy qw(copy);
use File::Path qw(make_path);
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $kit = "$FindBin::Bin/../monitoring";

# --- promtool: config, rules, unit tests ------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
make_path("$dir/prom/targets");
copy("$kit/prometheus/$_", "$dir/prom/$_") or die "copy $_: $!"
  for qw(prometheus.yml alerts.yml alerts_test.yml);

my ($out, $err);
ok(IPC::Run::run([ 'promtool', 'check', 'config', "$kit/prometheus/prometheus.yml" ],
		'>', \$out, '2>', \$err), 'promtool check config: shipped prometheus.yml')
  or diag("$out$err");
ok(IPC::Run::run([ 'promtool', 'check', 'rules', "$kit/prometheus/alerts.yml" ],
		'>', \$out, '2>', \$err), 'promtool check rules: alerts.yml')
  or diag("$out$err");
ok(IPC::Run::run([ 'promtool', 'test', 'rules', 'alerts_test.yml' ],
		'>', \$out, '2>', \$err, init => sub { chdir "$kit/prometheus" }),
	'promtool test rules: every alert unit test passes')
  or diag("$out$err");

# --- a primary and its standby, each with pg_prom ---------------------------
my ($primary, $pport) = new_prom_node('primary',
	init => { allows_streaming => 1 },
	conf => "shared_preload_libraries = 'pg_prom, pg_stat_statements'\n"
	  . "pg_prom.other_databases_interval = 1\npg_prom.slow_collector_interval = 1\n");
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_stat_statements;
CREATE ROLE alice LOGIN PASSWORD 'right';
SELECT pg_create_physical_replication_slot('standby1');
});
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
my $sport = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf',
	"pg_prom.port = $sport\nprimary_slot_name = 'standby1'\n");
$standby->start;
ok(wait_for_endpoint($pport) && wait_for_endpoint($sport), 'both endpoints answer');

# password authentication for alice, so that a wrong password is counted
my $hba = PostgreSQL::Test::Utils::slurp_file($primary->data_dir . '/pg_hba.conf');
open(my $fh, '>', $primary->data_dir . '/pg_hba.conf') or die;
print $fh "local all alice scram-sha-256\n$hba";
close $fh;
$primary->reload;

# --- Prometheus with the shipped configuration ------------------------------
# Only the intervals change (1 s instead of 15 s) and the target file lists
# the two test servers.
my $cfg = PostgreSQL::Test::Utils::slurp_file("$dir/prom/prometheus.yml");
$cfg =~ s/^(\s*(?:scrape|evaluation)_interval:) 15s/$1 1s/mg;
$cfg =~ s/^(\s*scrape_timeout:) 10s/$1 1s/m;
$cfg =~ s/^(\s*refresh_interval:) 1m/$1 1s/m;
open($fh, '>', "$dir/prom/prometheus.yml") or die;
print $fh $cfg;
close $fh;
open($fh, '>', "$dir/prom/targets/test.yml") or die;
print $fh "- targets: ['127.0.0.1:$pport', '127.0.0.1:$sport']\n  labels:\n    cluster: test\n";
close $fh;

my $promport = PostgreSQL::Test::Cluster::get_free_port();
my $prom_url = "http://127.0.0.1:$promport";
my $prom = IPC::Run::start(
	[
		'prometheus', "--config.file=$dir/prom/prometheus.yml",
		"--storage.tsdb.path=$dir/prom/data",
		"--web.listen-address=127.0.0.1:$promport",
		'--log.level=warn'
	],
	'>', "$dir/prometheus.log", '2>&1');

sub prom_query
{
	my ($expr) = @_;
	my $r = HTTP::Tiny->new(timeout => 10)->post_form("$prom_url/api/v1/query", { query => $expr });
	return [] unless $r->{success};
	my $body = decode_json($r->{content});
	return $body->{status} eq 'success' ? $body->{data}{result} : [];
}

# wait for Prometheus to scrape both servers (and to evaluate the rules)
sub wait_for_series
{
	my ($expr, $count) = @_;
	my $deadline = time + 90;
	while (time < $deadline)
	{
		return 1 if scalar(@{ prom_query($expr) }) >= $count;
		sleep 0.5;
	}
	return 0;
}
ok(wait_for_series('up{job="postgres",cluster="test"} == 1', 2),
	'Prometheus scrapes both servers found through file service discovery');

# --- workload ---------------------------------------------------------------
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->command_ok([ 'pgbench', '-i', '-s', '1', '-q', 'app' ], 'pgbench -i');
$primary->command_ok([ 'pgbench', '-t', '200', '-c', '2', 'app' ], 'pgbench on the primary');
$primary->psql('app', 'SELECT 1/0') for 1 .. 3;
$primary->psql('app', 'SELECT * FROM no_such_table');
{
	local $ENV{PGPASSWORD} = 'wrong';
	$primary->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'alice' ]) for 1 .. 2;
}
$primary->wait_for_catchup($standby);
$standby->psql('app', 'SELECT count(*) FROM pgbench_accounts') for 1 .. 5;
$primary->safe_psql('app', 'VACUUM ANALYZE');

# a few more scrapes so that rates have two samples after the workload
ok(wait_for_series('pg_auth_attempts_total{result="failure"}', 1),
	'Prometheus sees the failed logins');
ok(wait_for_series('pg_stat_user_tables_n_live_tup{datname="app",relname="pgbench_accounts"}', 1),
	'Prometheus sees the tables of another database');
ok(wait_for_series('pg_stat_replication_pg_wal_lsn_diff{cluster="test"}', 1),
	'Prometheus sees the standby from its primary');
sleep 3;

# --- the fleet: roles and lag -----------------------------------------------
my %role = map { $_->{metric}{instance} => $_->{metric}{role} } @{ prom_query('pg_prom:role') };
is($role{"127.0.0.1:$pport"}, 'primary', 'pg_prom:role says primary for the primary');
is($role{"127.0.0.1:$sport"}, 'replica', 'pg_prom:role says replica for the standby');
my $lag = prom_query('pg_stat_replication_pg_wal_lsn_diff');
is(scalar(@$lag), 1, 'the primary reports one streaming standby');
is($lag->[0]{metric}{instance}, "127.0.0.1:$pport", 'reported by the primary');
is(scalar(@{ prom_query("pg_replication_lag_seconds{instance=\"127.0.0.1:$sport\"}") }), 1,
	'the standby reports its lag in seconds');
is(scalar(@{ prom_query('pg_replication_slots_active{slot_name="standby1"} == 1') }), 1,
	'the standby uses its slot');
is(scalar(@{ prom_query('ALERTS{alertstate="firing"}') }), 0, 'no alert fires on a healthy pair')
  or diag(explain(prom_query('ALERTS')));

# --- every dashboard query and every alert expression -----------------------
IPC::Run::run([ '/usr/bin/python3', "$FindBin::Bin/monitoring_check.py", $kit, $prom_url ],
	'>', \$out, '2>', \$err);
is($err, '', 'monitoring_check.py ran') or diag($err);
my @lines = grep { /^(not )?ok - / } split /\n/, $out;
cmp_ok(scalar(@lines), '>', 60, 'every query was checked (' . scalar(@lines) . ' checks)');
for my $line (@lines)
{
	my ($not, $what) = $line =~ /^(not )?ok - (.*)$/;
	ok(!$not, $what);
}

# --- OpenMetrics: Prometheus negotiated it and kept the names ---------------
my $scrape_ok = prom_query('pg_stat_database_xact_commit{datname="app"}');
ok(scalar(@$scrape_ok) >= 1, 'counters keep their postgres_exporter names in Prometheus');

$prom->signal('TERM');
$prom->finish;
check_log_clean($primary);
check_log_clean($standby);
done_testing();
