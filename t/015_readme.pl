# The README, run as a test: every SQL block written for users runs as
# written, as the role its marker names, in README order, against a server
# with pg_prom preloaded; each postgresql.conf block is applied (on this
# node's port) and the server restarted, and the endpoint must come back
# ready; each output block must appear, line for line, on /metrics.  Blocks
# marked at=end (uninstalling) run last.  The shell blocks (install routes,
# the kit's checks) run on a fresh Debian root: scripts/readme/routes.pl,
# from scripts/matrix.sh readme.  See scripts/readme/ReadmeBlocks.pm for the
# markers.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;
use lib "$FindBin::Bin/../scripts/readme";

use PgProm;
use ReadmeBlocks;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my @blocks = ReadmeBlocks::parse("$FindBin::Bin/../README.md");
my @suite = grep { ReadmeBlocks::runs_in($_, 'suite') } @blocks;
cmp_ok(scalar(@suite), '>=', 10, 'the README has blocks for the suite to run');
@suite = ((grep { ($_->{attrs}{at} // '') ne 'end' } @suite),
	(grep { ($_->{attrs}{at} // '') eq 'end' } @suite));

my ($node, $port) = new_prom_node('readme');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

for my $b (@suite)
{
	my $what = "README line $b->{line} ($b->{section})";
	if ($b->{kind} eq 'sql')
	{
		my $role = $b->{attrs}{as};
		my $sql = ($role ? "SET ROLE $role;\n" : '') . $b->{text};
		my ($rc, $out, $err) = $node->psql($b->{attrs}{db} // 'postgres', $sql,
			on_error_stop => 1);
		is($rc, 0, "$what: SQL" . ($role ? " as $role" : '') . ' runs')
		  or diag($err);
	}
	elsif ($b->{kind} eq 'conf')
	{
		# the README's lines, then this node's own address and port again
		$node->append_conf('postgresql.conf', "# $what\n$b->{text}"
			  . "pg_prom.listen_addresses = '127.0.0.1'\npg_prom.port = $port\n");
		$node->restart;
		ok(wait_ready($port), "$what: after the restart the endpoint is ready");
	}
	elsif ($b->{kind} eq 'output')
	{
		my $metrics = http_get($port, '/metrics')->{content} // '';
		my %have = map { $_ => 1 } split /\n/, $metrics;
		my @missing = grep { $_ ne '' && !$have{$_} } split /\n/, $b->{text};
		is_deeply(\@missing, [], "$what: every line is on /metrics");
	}
	elsif ($b->{kind} eq 'sh')
	{
		my ($rc) = system('bash', '-e', '-c', $b->{text});
		is($rc, 0, "$what: shell block runs");
	}
}

# the uninstall steps ran last: nothing of the extension is left
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'pg_prom'"),
	'0', 'after the README\'s uninstall steps the extension is gone');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'count_order'"),
	'0', 'and so is the trigger that called pg_prom_count_rows()');

$node->stop;
check_log_clean($node);
done_testing();

# /ready answers 200 (the collector is connected), within 30 s.
sub wait_ready
{
	my ($port) = @_;
	my $deadline = time + 30;
	while (time < $deadline)
	{
		return 1 if (http_get($port, '/ready')->{status} // 0) == 200;
		sleep 0.2;
	}
	return 0;
}
