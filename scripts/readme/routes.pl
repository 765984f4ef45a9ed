#!/usr/bin/perl
#
# routes.pl: follow the README as a new user does, on a fresh Debian root,
# as root: every block marked for the routes (see ReadmeBlocks.pm) runs in
# README order, once per install route (the Debian package, then PGXS), each
# route ending with the README's uninstall steps so that the next one starts
# from a server without pg_prom.
#
#   scripts/readme/routes.pl [--route package|pgxs]... [README]
#
# Shell blocks run with bash -e in the checkout, as written; SQL blocks with
# psql as the postgres OS user (after SET ROLE for as=); postgresql.conf
# blocks go to the Debian cluster's conf.d/pg_prom.conf.  The first block
# that fails stops the run with its README line.  Run by scripts/matrix.sh
# (target readme) on a fresh Debian 12; refuses to run anywhere else, since
# it installs and removes packages and restarts the cluster.

use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;
use File::Temp qw(tempfile);
use ReadmeBlocks;

my @routes;
while (@ARGV && $ARGV[0] =~ /^--/)
{
	my $opt = shift @ARGV;
	if ($opt eq '--route') { push @routes, shift @ARGV; }
	else { die "usage: $0 [--route package|pgxs]... [README]\n"; }
}
@routes = ('package', 'pgxs') unless @routes;
my $readme = shift(@ARGV) // "$FindBin::Bin/../../README.md";
my $top = "$FindBin::Bin/../..";

die "routes.pl installs and removes packages: run it as root in a fresh root "
  . "(scripts/matrix.sh readme), or set README_ROUTES_HERE=1\n"
  unless -e '/.pg_prom-matrix-root' || $ENV{README_ROUTES_HERE};
die "routes.pl must run as root\n" if $> != 0;

my @blocks = ReadmeBlocks::parse($readme);
my $major = $ENV{PG_MAJOR} // 15;
my $confd = "/etc/postgresql/$major/main/conf.d";

my $first = 1;
for my $route (@routes)
{
	print "=== README, install route '$route'\n";
	# each route starts from a new cluster, as on a server that never had
	# pg_prom (the roles and tables of the route before are gone)
	if (!$first && system("pg_lsclusters -h 2>/dev/null | grep -q '^$major *main '") == 0)
	{
		system("pg_dropcluster --stop $major main && pg_createcluster $major main >/dev/null") == 0
		  or die "=== could not make a new cluster $major/main for route $route\n";
	}
	$first = 0;
	for my $b (@blocks)
	{
		next unless ReadmeBlocks::runs_in($b, 'routes');
		next unless ReadmeBlocks::for_route($b, $route);
		run_block($b, $route);
	}
	check_server_log($route);
}
print "=== README routes (" . join(', ', @routes) . "): every block ran\n";
exit 0;

sub run_block
{
	my ($b, $route) = @_;
	my $where = "README line $b->{line} ($b->{section})";
	print "--- $route: $where: $b->{kind}"
	  . join('', map { " $_=$b->{attrs}{$_}" } sort keys %{ $b->{attrs} }) . "\n";
	print $b->{text};
	my $rc;
	if ($b->{kind} eq 'sh')
	{
		my ($fh, $file) = tempfile('/tmp/readme-block-XXXXXX', UNLINK => 1);
		print $fh $b->{text};
		close $fh;
		$rc = system('bash', '-c', "cd '$top' && bash -e '$file'");
	}
	elsif ($b->{kind} eq 'sql')
	{
		my $sql = $b->{text};
		$sql = "SET ROLE $b->{attrs}{as};\n$sql" if $b->{attrs}{as};
		my ($fh, $file) = tempfile('/tmp/readme-block-XXXXXX', UNLINK => 1);
		print $fh $sql;
		close $fh;
		chmod 0644, $file;
		my $db = $b->{attrs}{db} // 'postgres';
		$rc = system('sudo', '-u', 'postgres', 'psql', '-X', '-v', 'ON_ERROR_STOP=1',
			'-d', $db, '-f', $file);
	}
	elsif ($b->{kind} eq 'conf')
	{
		die "$where: no Debian cluster configuration in $confd\n" unless -d $confd;
		open(my $fh, '>>', "$confd/pg_prom.conf") or die "$confd/pg_prom.conf: $!\n";
		print $fh "# README line $b->{line}\n$b->{text}";
		close $fh;
		$rc = 0;
	}
	die "=== $route: $where failed (exit " . ($rc >> 8) . ")\n" if $rc != 0;
}

# No server process of this route's cluster ended by a signal.
sub check_server_log
{
	my ($route) = @_;
	my $log = "/var/log/postgresql/postgresql-$major-main.log";
	return unless -e $log;
	open(my $fh, '<', $log) or die "$log: $!\n";
	my @bad = grep { /terminated by signal/ } <$fh>;
	close $fh;
	die "=== $route: the server log has processes terminated by a signal:\n@bad" if @bad;
	print "=== $route: no server process terminated by a signal ($log)\n";
}
