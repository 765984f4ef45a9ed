# Native histograms over the protobuf format, proved with the real consumer:
# Debian's Prometheus run with --enable-feature=native-histograms scrapes
# pg_prom (which it asks for protobuf), a controlled workload runs
# statements of a known length (pg_sleep(0.05)) in a database of their own,
# and histogram_quantile() over the native histogram answers close to that
# length (the classic buckets could only say "between 0.05 and 0.1"); an
# application histogram (pg_prom_histogram_observe) is native too.  The
# text and OpenMetrics formats are untouched: no native lines, the same
# content type, and the negotiation picks protobuf only when the scraper
# prefers it.  The monitoring kit's native-quantile panel has data there.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use File::Path qw(make_path);
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('native');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');
$node->safe_psql('postgres', 'CREATE DATABASE work');
$node->safe_psql('work', 'SELECT pg_sleep(0.05)') for 1 .. 3;

my $pb_accept =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,'
  . 'application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

# --- negotiation, and the text formats untouched ------------------------------
{
	my $r = http_get($port, '/metrics', Accept => $pb_accept);
	is($r->{status}, 200, 'a protobuf scrape answers 200');
	is($r->{headers}{'content-type'},
		'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
		'with the protobuf content type');
	like($r->{content}, qr/pg_statement_duration_seconds/, 'carrying the latency histograms');

	my $t = http_get($port, '/metrics');
	like($t->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'plain text stays the default');
	unlike($t->{content}, qr/^# NATIVE/m, 'the text format has no native lines');
	# (three pg_sleep(0.05): none under 0.05 s; a loaded machine may stretch one)
	like($t->{content}, qr/^pg_statement_duration_seconds_bucket\{datname="work",command="select",le="0.05"\} 0\npg_statement_duration_seconds_bucket\{datname="work",command="select",le="0.1"\} \d\n(?:.*\n)*?pg_statement_duration_seconds_bucket\{datname="work",command="select",le="\+Inf"\} 3$/m,
		'and its classic buckets as before');
	my $om = http_get($port, '/metrics',
		Accept => 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5');
	like($om->{headers}{'content-type'}, qr{^application/openmetrics-text}, 'OpenMetrics when asked for');
	unlike($om->{content}, qr/^# NATIVE/m, 'without native lines either');

	my $low = http_get($port, '/metrics',
		Accept => 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.2,text/plain;q=0.9');
	like($low->{headers}{'content-type'}, qr{^text/plain}, 'protobuf offered below text: text');
	my $other = http_get($port, '/metrics',
		Accept => 'application/vnd.google.protobuf;proto=io.prometheus.client.Other;encoding=delimited');
	like($other->{headers}{'content-type'}, qr{^text/plain}, 'another protobuf message: text');
	my $om2 = http_get($port, '/metrics',
		Accept => 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,'
		  . 'application/openmetrics-text;version=2.0.0;q=0.9');
	like($om2->{headers}{'content-type'}, qr{^application/vnd\.google\.protobuf},
		'a preferred format version pg_prom does not serve does not outrank protobuf');
	my $gz = http_get($port, '/metrics', Accept => $pb_accept, 'Accept-Encoding' => 'gzip');
	is($gz->{headers}{'content-encoding'}, 'gzip', 'protobuf is gzipped when the scraper accepts it');
}

# --- Prometheus with native histograms --------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
make_path("$dir/data");
my $promport = PostgreSQL::Test::Cluster::get_free_port();
open(my $fh, '>', "$dir/prometheus.yml") or die;
print $fh <<"EOC";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: postgres
    static_configs:
      - targets: ['127.0.0.1:$port']
EOC
close $fh;
my $prom = IPC::Run::start(
	[
		'prometheus', "--config.file=$dir/prometheus.yml",
		"--storage.tsdb.path=$dir/data",
		"--web.listen-address=127.0.0.1:$promport",
		'--enable-feature=native-histograms',
		'--log.level=warn'
	],
	'>', "$dir/prometheus.log", '2>&1');
my $prom_url = "http://127.0.0.1:$promport";

sub prom_query
{
	return prom_query_at($prom_url, @_);
}

# the value of a one-series query once it has one (at most $timeout s)
sub wait_for_value
{
	my ($expr, $timeout) = @_;
	my $deadline = time + ($timeout || 60);
	while (time < $deadline)
	{
		my $res = prom_query($expr);
		if (@$res && defined $res->[0]{value}[1] && $res->[0]{value}[1] ne 'NaN')
		{
			return $res->[0]{value}[1];
		}
		sleep 0.5;
	}
	return undef;
}

ok(defined wait_for_value('up{job="postgres"} == 1', 60), 'Prometheus scrapes pg_prom');

# the workload: statements of 50 ms in database work, for about 8 s, while
# Prometheus scrapes every second; and an application histogram observing
# 0.3 (its classic buckets 0.1, 0.5, 1, 5 would put p99 near 0.5), and one
# with negative bounds observing -0.3 three times for each 2 (classic
# buckets -1, 0, 1, 4 would put the median near -0.17)
$node->safe_psql('postgres', 'CREATE EXTENSION pg_prom');
$node->safe_psql('postgres',
	"SELECT pg_prom_metric_define('app_job_seconds', 'histogram', 'Job time.', ARRAY[0.1, 0.5, 1, 5])");
$node->safe_psql('postgres',
	"SELECT pg_prom_metric_define('app_drift_seconds', 'histogram', 'Clock drift.', ARRAY[-1, 0, 1, 4])");
my $load = $node->background_psql('work');
for my $i (1 .. 160)
{
	$load->query_safe('SELECT pg_sleep(0.05)');
	$node->safe_psql('postgres', "SELECT pg_prom_histogram_observe('app_job_seconds', 0.3)")
	  if $i % 8 == 0;
	$node->safe_psql('postgres',
		"SELECT pg_prom_histogram_observe('app_drift_seconds', -0.3), pg_prom_histogram_observe('app_drift_seconds', -0.3),"
		  . " pg_prom_histogram_observe('app_drift_seconds', -0.3), pg_prom_histogram_observe('app_drift_seconds', 2),"
		  . " pg_prom_histogram_observe('app_drift_seconds', 2)")
	  if $i % 16 == 0;
}
$load->quit;

my $sel = 'pg_statement_duration_seconds{datname="work",command="select"}';
my $count = wait_for_value("histogram_count($sel)", 30);
ok(defined $count && $count >= 100,
	'the latency histogram is a native histogram in Prometheus (histogram_count answers: '
	  . ($count // 'nothing') . ')');
my $p99 = wait_for_value("histogram_quantile(0.99, sum(rate(${sel}[1m])))", 30);
# pg_sleep(0.05) lasts a little over 50 ms, more on a busy machine: the
# classic buckets (0.05, 0.1] would put p99 near 0.1 s (0.0995), the native
# buckets (9% wide) within a bucket or two of the real durations (0.0504 to
# 0.0603 seen; the bound leaves room for a loaded machine's slow sleeps)
ok(defined $p99 && $p99 > 0.045 && $p99 < 0.09,
	'histogram_quantile(0.99) over the native histogram is close to the 50 ms statements ('
	  . ($p99 // 'nothing') . ')');
my $p50 = wait_for_value("histogram_quantile(0.5, sum(rate(${sel}[1m])))", 30);
ok(defined $p50 && $p50 > 0.045 && $p50 < 0.065,
	'and so is the median (' . ($p50 // 'nothing') . ')');
diag("native histogram in Prometheus: histogram_count " . ($count // '-')
	  . ", p99 " . ($p99 // '-') . " s, p50 " . ($p50 // '-') . " s (statements of 0.05 s)");
my $app_p99 = wait_for_value('histogram_quantile(0.99, sum(rate(app_job_seconds[1m])))', 30);
diag('application histogram: p99 ' . ($app_p99 // '-') . ' (observations of 0.3)');
ok(defined $app_p99 && $app_p99 > 0.27 && $app_p99 < 0.33,
	'an application histogram is native too: its p99 is close to the 0.3 observed ('
	  . ($app_p99 // 'nothing') . ')');
# the signed one: negative buckets in Prometheus (its count, and a median
# among the -0.3 observations, a 0.9 quantile among the 2 ones)
my $drift_count = wait_for_value('histogram_count(sum(app_drift_seconds)) == 50', 30);
is($drift_count, '50', 'a histogram with negative bounds is native, every observation counted');
my $drift_p50 = wait_for_value('histogram_quantile(0.5, sum(rate(app_drift_seconds[1m])))', 30);
my $drift_p90 = wait_for_value('histogram_quantile(0.9, sum(rate(app_drift_seconds[1m])))', 30);
diag('application histogram with negative bounds: p50 ' . ($drift_p50 // '-')
	  . ', p90 ' . ($drift_p90 // '-') . ' (observations of -0.3 and 2)');
ok(defined $drift_p50 && $drift_p50 > -0.33 && $drift_p50 < -0.27,
	'its median is close to the -0.3 observed, from negative buckets (' . ($drift_p50 // 'nothing') . ')');
ok(defined $drift_p90 && $drift_p90 > 1.8 && $drift_p90 < 2.2,
	'and its 0.9 quantile close to the 2 observed (' . ($drift_p90 // 'nothing') . ')');
my $classic = wait_for_value(
	'sum(pg_prom_scrapes_total)', 10);
ok(defined $classic, 'the other families are ingested from the same protobuf scrapes');
my $gauge = wait_for_value('pg_settings_max_connections', 10);
is($gauge, '100', 'a gauge reads as in the text format');

# the kit's native-quantile panel, evaluated as Grafana would: data now
{
	my ($out, $err) = ('', '');
	my $major = int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
	IPC::Run::run(
		[
			'/usr/bin/python3', "$FindBin::Bin/monitoring_check.py",
			"$FindBin::Bin/../monitoring", $prom_url, $major, 'native'
		],
		'>', \$out, '2>', \$err);
	is($err, '', 'monitoring_check.py ran against the native Prometheus') or diag($err);
	unlike($out, qr/^not ok/m, 'every dashboard query and rule evaluates there') or diag($out);
	like($out, qr/^ok - panel 'Statement latency p50 \/ p99 \(native histograms\)' B returns data$/m,
		"the kit's native-quantile panel has data");
}

$prom->signal('TERM');
$prom->finish;
my $plog = PostgreSQL::Test::Utils::slurp_file("$dir/prometheus.log");
unlike($plog, qr/level=(error|warn).*(pars|scrape)/i, 'Prometheus logged no parse or scrape problem')
  or diag($plog);

$node->stop('fast');
check_log_clean($node);
done_testing();
