#!/usr/bin/env bash
# Run every pg_prom test: build, install, then pg_regress (SQL surface) and
# the TAP suite (worker, HTTP, Prometheus) as the postgres OS user.
# Works as root on a fresh Debian 12; installs what it needs.
#
#   scripts/test.sh                      # everything
#   PROVE_TESTS=t/001_http.pl scripts/test.sh   # one TAP file
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

need_root
install_packages
build_and_install

# PostgreSQL refuses to run as root: test a copy of the tree owned by postgres.
work=$(mktemp -d /tmp/pg_prom-test.XXXXXX)
cp -a "$here/." "$work/"
rm -rf "$work/.git"
chown -R postgres: "$work"
echo "== testing in $work"

status=0
runuser -u postgres -- make -C "$work" installcheck PROVE_TESTS="${PROVE_TESTS:-}" \
	PROVE_FLAGS="--timer" || status=$?

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
