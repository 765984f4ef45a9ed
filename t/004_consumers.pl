# Proves that real consumers accept what pg_prom serves: promtool's linter
# finds nothing in the families pg_prom introduces, the Python
# prometheus_client parsers read every family of the classic and the
# OpenMetrics format, and a real Prometheus server (which asks for
# OpenMetrics) scrapes the endpoint and reports the target up.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use JSON::PP;
use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('consumers');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');
$node->safe_psql('postgres', 'CREATE DATABASE app; CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');
$node->psql('postgres', 'SELECT 1/0');	# so that the error families have series

my $dir = PostgreSQL::Test::Utils::tempdir();
my $text = metrics_of($port);
open(my $fh, '>', "$dir/scrape.prom") or die;
print $fh $text;
close $fh;

# --- promtool --------------------------------------------------------------
my ($stdout, $stderr);
IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', "$dir/scrape.prom",
	'>', \$stdout, '2>', \$stderr);
my @findings = split /\n/, ($stdout // '') . ($stderr // '');
unlike(join("\n", @findings), qr/error while linting|text format parsing error/,
	'promtool parses the whole scrape');
# postgres_exporter's own names keep their lint findings (counters without
# _total, gauges ending in _count) so that dashboards keep working
my $inherited = qr/^(pg_stat_database_|pg_stat_archiver_|pg_stat_user_tables_|pg_statio_user_tables_|pg_stat_activity_count|pg_locks_count|pg_settings_)/;
my @ours = grep { $_ !~ $inherited } @findings;
is_deeply(\@ours, [], 'promtool finds nothing in the families pg_prom introduces')
  or diag(join("\n", @ours));
note("findings on inherited postgres_exporter names: " . scalar(@findings));

# --- a third-party parser --------------------------------------------------------
my $py = <<'PY';
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
families = list(text_string_to_metric_families(text))
samples = sum(len(f.samples) for f in families)
print(len(families), samples)
PY
my $out = `/usr/bin/python3 -c '$py' $dir/scrape.prom 2>&1`;
my $types = () = $text =~ /^# TYPE /mg;
my $sample_lines = () = $text =~ /^[a-z]/mg;
is($?, 0, 'prometheus_client parses the scrape') or diag($out);
like($out, qr/^$types $sample_lines$/, "every family ($types) and sample ($sample_lines) is read");

# --- OpenMetrics, negotiated ---------------------------------------------------
# Prometheus's own Accept header: OpenMetrics first, the classic text at 0.5.
my $prom_accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;'
  . 'version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
my $r = http_get($port, '/metrics', Accept => $prom_accept);
is($r->{headers}{'content-type'}, 'application/openmetrics-text; version=1.0.0; charset=utf-8',
	'OpenMetrics when the scraper prefers it');
like($r->{headers}{vary}, qr/\bAccept\b/, 'the response varies by Accept');
like($r->{content}, qr/\n# EOF\n\z/, 'it ends with # EOF');
like($r->{content}, qr/^# TYPE pg_prom_scrapes counter\n(?:# [A-Z]+ .*\n)*pg_prom_scrapes_total /m,
	'a counter is declared without _total and its samples keep it');
like($r->{content}, qr/^# TYPE pg_stat_database_xact_commit unknown$/m,
	'an inherited counter without _total stays under its name as unknown');
like($r->{content}, qr/^# UNIT pg_statement_duration_seconds seconds$/m, 'units are declared');
open($fh, '>', "$dir/scrape.om") or die;
print $fh $r->{content};
close $fh;
my $pyom = <<'PY';
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
print(len(families), sum(len(f.samples) for f in families))
PY
$out = `/usr/bin/python3 -c '$pyom' $dir/scrape.om 2>&1`;
is($?, 0, "prometheus_client's strict OpenMetrics parser reads the scrape") or diag($out);
my $om_samples = () = $r->{content} =~ /^[a-z]/mg;
like($out, qr/^\d+ $om_samples$/, "and all of its $om_samples samples");
my %names = map { $_ => 1 } ($text =~ /^([a-z_:][a-z0-9_:]*)[{ ]/mg);
my %om_names = map { $_ => 1 } ($r->{content} =~ /^([a-z_:][a-z0-9_:]*)[{ ]/mg);
# (the other databases' catalog ages appear once their first read is done,
# which may fall between the two scrapes)
delete $_->{pg_prom_database_tables_age_seconds} for \%names, \%om_names;
is_deeply([ sort keys %om_names ], [ sort keys %names ],
	'sample names are the same in both formats (dashboards keep working)');
for my $accept ('*/*', 'text/plain', 'application/openmetrics-text;q=0.4, text/plain;q=0.5',
	'application/openmetrics-text;version=2.0.0', 'application/openmetrics-text;q=0')
{
	is(http_get($port, '/metrics', Accept => $accept)->{headers}{'content-type'},
		'text/plain; version=0.0.4; charset=utf-8', "classic text for Accept: $accept");
}
$r = http_get($port, '/metrics', Accept => 'application/openmetrics-text', 'Accept-Encoding' => 'gzip');
is($r->{headers}{'content-encoding'}, 'gzip', 'OpenMetrics can be gzipped too');

# --- a real Prometheus server ------------------------------------------------------
my $prom_port = PostgreSQL::Test::Cluster::get_free_port();
open($fh, '>', "$dir/prometheus.yml") or die;
print $fh <<"YML";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pg_prom
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
close $fh;
my $prom = IPC::Run::start(
	[
		'prometheus', "--config.file=$dir/prometheus.yml",
		"--storage.tsdb.path=$dir/data",
		"--web.listen-address=127.0.0.1:$prom_port"
	],
	'>', "$dir/prometheus.log", '2>&1');

sub prom_query
{
	my ($q) = @_;
	my $r = HTTP::Tiny->new(timeout => 5)->get("http://127.0.0.1:$prom_port/api/v1/query?query=$q");
	return undef unless $r->{status} == 200;
	return decode_json($r->{content})->{data}{result};
}

my ($health, $up, $last_error) = ('', undef, '');
my $deadline = time + 60;
while (time < $deadline)
{
	my $r = HTTP::Tiny->new(timeout => 5)->get("http://127.0.0.1:$prom_port/api/v1/targets");
	if ($r->{status} == 200)
	{
		my $t = decode_json($r->{content})->{data}{activeTargets}[0];
		if ($t)
		{
			$health = $t->{health};
			$last_error = $t->{lastError};
			last if $health eq 'up';
		}
	}
	sleep 0.5;
}
is($health, 'up', 'Prometheus reports the pg_prom target up') or diag($last_error);

my $res;
for (1 .. 20)
{
	$res = prom_query('pg_up');
	last if $res && @$res;
	sleep 0.5;
}
is($res->[0]{value}[1], '1', 'Prometheus stored pg_up = 1');
$res = prom_query('pg_database_size_bytes{datname="app"}');
ok($res && @$res == 1 && $res->[0]{value}[1] > 0, 'per-database series arrive with their labels');
$res = prom_query('scrape_samples_scraped{job="pg_prom"}');
ok($res && $res->[0]{value}[1] > 500, "Prometheus ingested the samples ($res->[0]{value}[1])");

$prom->signal('TERM');
$prom->finish;

$node->stop;
check_log_clean($node);
done_testing();
