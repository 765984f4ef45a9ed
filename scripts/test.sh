#!/usr/bin/env bash
# Run every pg_prom test: build, install, then pg_regress (SQL surface) and
# the TAP suite (worker, HTTP, Prometheus) as the postgres OS user.
# Works as root on a fresh Debian 12; installs what it needs.
#
#   scripts/test.sh                      # everything
#   PROVE_TESTS=t/001_http.pl scripts/test.sh   # one TAP file
#   FUZZ_SECONDS=600 scripts/test.sh             # fuzz longer (0: skip)
#   PACKAGE=0 scripts/test.sh                    # skip the Debian package
#   PG_MAJOR=17 scripts/test.sh                  # Debian's postgresql-17 (where
#                                                #   the release ships it)
#   PG_CONFIG=/usr/local/pgsql-16/bin/pg_config scripts/test.sh
#                                                # a PostgreSQL built from source
# Other majors, each on a fresh Debian root: scripts/matrix.sh (README: PostgreSQL versions).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

need_root
install_packages
if ! pg_version=$("$PG_CONFIG" --version); then
	echo "no PostgreSQL at PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi
echo "== $pg_version ($PG_CONFIG)"
build_and_install

# The Debian package: build it with pg_buildext and install it with apt;
# the tests below then run against the packaged extension.
if [ "${PACKAGE:-1}" != 0 ]; then
	echo "== building and installing the Debian package"
	"$here/scripts/package.sh" >/dev/null
	deb=$(ls "$here"/dist/postgresql-$PG_MAJOR-pg-prom_*.deb)
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$deb" >/dev/null
	owner=$(dpkg -S "$($PG_BIN/pg_config --pkglibdir)/pg_prom.so" | cut -d: -f1)
	if [ "$owner" != "postgresql-$PG_MAJOR-pg-prom" ]; then
		echo "pg_prom.so does not come from the package (owner: $owner)" >&2
		exit 1
	fi
	echo "package: $(basename "$deb") installed with apt"
fi

# t/016_upgrade.pl creates the extension at 1.0, whose script is not shipped
# (its SQL is what 1.1 fixed): next to the installed scripts for this run only.
old_script="$("$PG_CONFIG" --sharedir)/extension/pg_prom--1.0.sql"
install -m 644 "$here/test/upgrade/pg_prom--1.0.sql" "$old_script"
trap 'rm -f "$old_script"' EXIT

# PostgreSQL refuses to run as root: test a copy of the tree owned by postgres.
work=$(mktemp -d /tmp/pg_prom-test.XXXXXX)
cp -a "$here/." "$work/"
rm -rf "$work/.git"
chown -R postgres: "$work"
echo "== testing in $work"

status=0
# the fault tests open a thousand sockets at once
ulimit -n 8192 2>/dev/null || true
runuser -u postgres -- make -C "$work" installcheck PG_CONFIG="$PG_CONFIG" PROVE_TESTS="${PROVE_TESTS:-}" \
	PROVE_FLAGS="--timer" || status=$?

# fuzz the HTTP parser (libFuzzer, ASan+UBSan) for a bounded time
if [ $status -eq 0 ] && [ "${FUZZ_SECONDS:-60}" != 0 ]; then
	echo "== fuzzing the HTTP parser for ${FUZZ_SECONDS:-60} s"
	if make -C "$work" -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >"$work/fuzz.log" 2>&1; then
		grep -E '^stat::number_of_executed_units' "$work/fuzz.log" || true
		echo "fuzz: no finding"
	else
		tail -n 40 "$work/fuzz.log"
		echo "fuzz: FINDING (see $work/fuzz/)"
		status=1
	fi
fi

if [ $status -ne 0 ]; then
	for f in "$work"/regression.diffs; do
		[ -f "$f" ] && { echo "== $f"; cat "$f"; }
	done
	for f in "$work"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "== tail of $f"; tail -n 40 "$f"; }
	done
	echo "pg_prom tests: FAILED (logs kept in $work)"
	exit $status
fi
echo "pg_prom tests: all passed"
rm -rf "$work"
