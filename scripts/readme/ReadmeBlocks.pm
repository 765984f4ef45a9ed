# ReadmeBlocks.pm
#
# The README's code blocks and what each is for, so that the README can be
# run as a test (scripts/readme/routes.sh in a fresh Debian root,
# t/015_readme.pl against a test cluster).
#
# Every fenced block of README.md is preceded, on the line just before its
# opening fence, by a marker saying how it is tested:
#
#   <!-- test: sql [as=ROLE] [db=DATABASE] [in=suite|routes|both] -->
#       SQL run with psql; as=ROLE runs it after SET ROLE (default: the
#       bootstrap superuser); in= says where (default suite); at=end
#       makes the suite run it after every other block (an uninstall step
#       the examples further down must not see).
#   <!-- test: sh [route=NAME,...] [in=routes|suite] -->
#       Shell commands run as root with bash -e, as written (default in
#       routes, the fresh root; route= limits them to those install routes).
#   <!-- test: conf [route=NAME,...] -->
#       postgresql.conf lines: the routes append them to the cluster's
#       conf.d, the suite to its test node's configuration.
#   <!-- test: output [of=metrics] -->
#       Lines the metrics must contain by then, each exactly (suite).
#   <!-- test: none REASON -->
#       Not runnable as such (placeholders, files to edit); REASON says why.
#
# A block without a marker, a marker without a block, an unknown kind or
# attribute, or "none" without a reason is an error: the README cannot grow
# a block that nobody runs without saying so.

package ReadmeBlocks;

use strict;
use warnings;

our %KINDS = (
	sql => { as => 1, db => 1, in => 1, at => 1 },
	sh => { route => 1, in => 1, at => 1 },
	conf => { route => 1 },
	output => { of => 1 },
	none => {},
);

# parse(PATH): the blocks in order, each a hash: kind, attrs (hash), text,
# line (of the opening fence), lang (the fence's info string), section (the
# last heading above it).  Dies with every problem found.
sub parse
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!\n";
	my @lines = <$fh>;
	close $fh;

	my (@blocks, @errors);
	my ($marker, $marker_line, $section) = (undef, 0, '');
	my $i = 0;
	while ($i < @lines)
	{
		my $l = $lines[$i];
		if ($l =~ /^(#+)\s+(.*?)\s*$/)
		{
			$section = $2;
		}
		if ($l =~ /^\s*<!--\s*test:\s*(.*?)\s*-->\s*$/)
		{
			push @errors, "line $marker_line: marker not followed by a block"
			  if defined $marker;
			$marker = $1;
			$marker_line = $i + 1;
			$i++;
			next;
		}
		if ($l =~ /^(\s*)(```+)\s*(\S*)\s*$/)
		{
			my ($indent, $fence, $lang) = ($1, $2, $3);
			my $start = $i + 1;
			my @text;
			$i++;
			while ($i < @lines && $lines[$i] !~ /^\s*\Q$fence\E\s*$/)
			{
				(my $t = $lines[$i]) =~ s/^\Q$indent\E//;
				push @text, $t;
				$i++;
			}
			push @errors, "line $start: block never closed" if $i >= @lines;
			$i++;
			if (!defined $marker || $marker_line != $start - 1)
			{
				push @errors, "line $start: block without a '<!-- test: ... -->' marker on the line above";
				$marker = undef;
				next;
			}
			my $b = parse_marker($marker, $start, \@errors);
			if ($b)
			{
				$b->{text} = join('', @text);
				$b->{line} = $start;
				$b->{lang} = $lang;
				$b->{section} = $section;
				push @blocks, $b;
			}
			$marker = undef;
			next;
		}
		if (defined $marker && $l !~ /^\s*$/)
		{
			push @errors, "line $marker_line: marker not followed by a block";
			$marker = undef;
		}
		$i++;
	}
	push @errors, "line $marker_line: marker not followed by a block"
	  if defined $marker;
	die join('', map { "$path: $_\n" } @errors) if @errors;
	return @blocks;
}

sub parse_marker
{
	my ($m, $line, $errors) = @_;
	my ($kind, $rest) = $m =~ /^(\S+)\s*(.*)$/;
	if (!defined $kind || !$KINDS{$kind})
	{
		push @$errors, "line $line: unknown block kind in '$m' (known: "
		  . join(', ', sort keys %KINDS) . ")";
		return undef;
	}
	my %b = (kind => $kind, attrs => {});
	if ($kind eq 'none')
	{
		if ($rest eq '')
		{
			push @$errors, "line $line: 'none' needs a reason";
			return undef;
		}
		$b{reason} = $rest;
		return \%b;
	}
	for my $a (split /\s+/, $rest)
	{
		my ($k, $v) = $a =~ /^([a-z]+)=(\S+)$/;
		if (!defined $k || !$KINDS{$kind}{$k})
		{
			push @$errors, "line $line: bad attribute '$a' for $kind";
			return undef;
		}
		$b{attrs}{$k} = $v;
	}
	if (defined $b{attrs}{in} && $b{attrs}{in} !~ /^(suite|routes|both)$/)
	{
		push @$errors, "line $line: in= is suite, routes or both";
		return undef;
	}
	return \%b;
}

# runs_in(BLOCK, WHERE): whether the block runs in 'suite' or 'routes'.
sub runs_in
{
	my ($b, $where) = @_;
	my $k = $b->{kind};
	return 0 if $k eq 'none';
	return $where eq 'suite' if $k eq 'output';
	return 1 if $k eq 'conf';
	my $in = $b->{attrs}{in} // ($k eq 'sql' ? 'suite' : 'routes');
	return $in eq 'both' || $in eq $where;
}

# for_route(BLOCK, ROUTE): whether the block belongs to that install route
# (blocks without route= belong to every route).
sub for_route
{
	my ($b, $route) = @_;
	my $r = $b->{attrs}{route};
	return 1 unless defined $r;
	return scalar grep { $_ eq $route } split /,/, $r;
}

1;
