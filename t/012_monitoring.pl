# Proves the monitoring kit under monitoring/ against the real thing: the
# Prometheus configuration and rules pass promtool, every alert's unit tests
# pass, and a real Prometheus, running the shipped prometheus.yml with file
# service discovery, scrapes a primary and its streaming standby (each with
# pg_prom) under some workload, then answers every dashboard query and every
# alert expression with data.  The fleet view: both servers appear with
# their roles and the replication lag between them.  The alert path: a real
# deadlock fires PostgresDeadlocks, and the shipped Alertmanager routing
# delivers it to the team's webhook.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use File::Copy qw(copy);
use File::Path qw(make_path);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
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

# --- Alertmanager with the shipped routing ----------------------------------
# Its webhooks point at a receiver this test answers; alerts are sent after
# 1 s instead of 30 s.
my $hook = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen => 16,
	ReuseAddr => 1) or die "webhook listener: $!";
my $hookport = $hook->sockport;
my $am_cfg = PostgreSQL::Test::Utils::slurp_file("$kit/alertmanager/alertmanager.yml");
$am_cfg =~ s{http://127\.0\.0\.1:5001/}{http://127.0.0.1:$hookport/}g;
$am_cfg =~ s/^(\s*group_wait:) 30s/$1 1s/m;
make_path("$dir/am");
open($fh, '>', "$dir/am/alertmanager.yml") or die;
print $fh $am_cfg;
close $fh;
ok(IPC::Run::run([ 'amtool', 'check-config', "$kit/alertmanager/alertmanager.yml" ],
		'>', \$out, '2>', \$err), 'amtool check-config: shipped alertmanager.yml')
  or diag("$out$err");
IPC::Run::run([ 'amtool', 'config', 'routes', 'test', "--config.file=$kit/alertmanager/alertmanager.yml",
		'severity=critical', 'alertname=PostgresDown' ], '>', \$out, '2>', \$err);
like($out, qr/^pager$/m, 'critical alerts page');
IPC::Run::run([ 'amtool', 'config', 'routes', 'test', "--config.file=$kit/alertmanager/alertmanager.yml",
		'severity=warning', 'alertname=PostgresDeadlocks' ], '>', \$out, '2>', \$err);
like($out, qr/^team$/m, 'warnings go to the team');
my $amport = PostgreSQL::Test::Cluster::get_free_port();
my $am = IPC::Run::start(
	[
		'prometheus-alertmanager', "--config.file=$dir/am/alertmanager.yml",
		"--storage.path=$dir/am/data", "--web.listen-address=127.0.0.1:$amport",
		'--cluster.listen-address=', '--log.level=warn'
	],
	'>', "$dir/alertmanager.log", '2>&1');

# --- Prometheus with the shipped configuration ------------------------------
# Only the intervals change (1 s instead of 15 s), the commented alerting
# section is switched on for the test's Alertmanager, and the target file
# lists the two test servers.
my $cfg = PostgreSQL::Test::Utils::slurp_file("$dir/prom/prometheus.yml");
$cfg =~ s/^(\s*(?:scrape|evaluation)_interval:) 15s/$1 1s/mg;
$cfg =~ s/^(\s*scrape_timeout:) 10s/$1 1s/m;
$cfg =~ s/^(\s*refresh_interval:) 1m/$1 1s/m;
$cfg =~ s/^# (alerting:\n)# (  alertmanagers:\n)# (    - static_configs:\n)# (        - targets: \[)'127\.0\.0\.1:9093'/$1$2$3$4'127.0.0.1:$amport'/m
  or die 'no commented alerting section in prometheus.yml';
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
	return prom_query_at($prom_url, @_);
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
my $major = int($primary->safe_psql('postgres', 'SHOW server_version_num') / 10000);
IPC::Run::run([ '/usr/bin/python3', "$FindBin::Bin/monitoring_check.py", $kit, $prom_url, $major ],
	'>', \$out, '2>', \$err);
is($err, '', 'monitoring_check.py ran') or diag($err);
my @lines = grep { /^(not )?ok - / } split /\n/, $out;
cmp_ok(scalar(@lines), '>', 60, 'every query was checked (' . scalar(@lines) . ' checks)');
for my $line (@lines)
{
	my ($not, $what) = $line =~ /^(not )?ok - (.*)$/;
	ok(!$not, $what);
}

# --- an alert travels to the receiver ----------------------------------------
# A deadlock: PostgresDeadlocks has no "for", so Prometheus sends it to
# Alertmanager, which routes the warning to the team's webhook.
$primary->safe_psql('app', 'CREATE TABLE d1 (id int); CREATE TABLE d2 (id int); INSERT INTO d1 VALUES (1); INSERT INTO d2 VALUES (1);');
cause_deadlock($primary, 'app');

# answer webhook calls until the deadlock alert arrives (at most 60 s)
my ($hook_path, $hook_body) = ('', '');
my $hook_deadline = time + 60;
my $sel = IO::Select->new($hook);
while (time < $hook_deadline && $hook_body !~ /PostgresDeadlocks/)
{
	next unless $sel->can_read(1);
	my $c = $hook->accept or next;
	$c->blocking(1);
	my $req = '';
	my $len;
	while (sysread($c, my $chunk, 65536))
	{
		$req .= $chunk;
		($len) = $req =~ /^Content-Length:\s*(\d+)/mi;
		my $head_end = index($req, "\r\n\r\n");
		last if defined $len && $head_end >= 0 && length($req) >= $head_end + 4 + $len;
	}
	print $c "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	close $c;
	($hook_path) = $req =~ m{^POST (\S+) }m;
	$hook_body = substr($req, index($req, "\r\n\r\n") + 4);
}
my $notification = eval { decode_json($hook_body) } || {};
my ($deadlock) = grep { $_->{labels}{alertname} eq 'PostgresDeadlocks' } @{ $notification->{alerts} || [] };
ok($deadlock, 'a deadlock fires PostgresDeadlocks and Alertmanager delivers it')
  or diag(PostgreSQL::Test::Utils::slurp_file("$dir/alertmanager.log"));
is($hook_path, '/alerts/team', 'routed to the team (a warning)');
is($deadlock->{labels}{datname}, 'app', 'with the database') if $deadlock;
like($deadlock->{annotations}{runbook} // '', qr/log_lock_waits/, 'and its runbook hint') if $deadlock;

# --- OpenMetrics: Prometheus negotiated it and kept the names ---------------
my $scrape_ok = prom_query('pg_stat_database_xact_commit{datname="app"}');
ok(scalar(@$scrape_ok) >= 1, 'counters keep their postgres_exporter names in Prometheus');

$prom->signal('TERM');
$prom->finish;
$am->signal('TERM');
$am->finish;
check_log_clean($primary);
check_log_clean($standby);
done_testing();
