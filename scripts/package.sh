#!/usr/bin/env bash
# Build the Debian package postgresql-<major>-pg-prom with Debian's
# PostgreSQL extension tooling (pg_buildext), from the committed tree plus
# local changes, into dist/: one package for every PostgreSQL major whose
# postgresql-server-dev-NN is installed (and that debian/pgversions allows).
# Works as root on a fresh Debian 12; installs what it needs (the dev files
# of $PG_MAJOR, 15 by default).
#
#   scripts/package.sh
#   apt install ./dist/postgresql-15-pg-prom_*.deb
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

need_root
if [ "$PG_SOURCE_BUILD" = 1 ]; then
	echo "the Debian package is built against Debian's postgresql-server-dev-NN, not PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi
PACKAGES_FOR=package
install_packages

# one version everywhere: META.json (PGXN), debian/changelog, the control file, src/guc.h
meta_version=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$here/META.json")
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
ext_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$here/pg_prom.control")
case "$meta_version" in
"$ext_version".*) ;;
*) echo "META.json version $meta_version does not match pg_prom.control $ext_version" >&2; exit 1 ;;
esac
if [ "$meta_version" != "$deb_version" ]; then
	echo "META.json version $meta_version differs from debian/changelog $deb_version" >&2
	exit 1
fi
# and the one pg_prom_build_info reports
src_version=$(sed -n 's/^#define PG_PROM_VERSION "\(.*\)"/\1/p' "$here/src/guc.h")
if [ "$meta_version" != "$src_version" ]; then
	echo "META.json version $meta_version differs from PG_PROM_VERSION $src_version in src/guc.h" >&2
	exit 1
fi

build=$(mktemp -d /tmp/pg_prom-package.XXXXXX)
trap 'rm -rf "$build"' EXIT
mkdir "$build/pg-prom"
# the source files as they are in the working tree, without build products
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$here" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$build/pg-prom"
else
	cp -a "$here/." "$build/pg-prom/"
	make -C "$build/pg-prom" -s clean >/dev/null 2>&1 || true
	rm -rf "$build/pg-prom/dist"
fi
cd "$build/pg-prom"
# debian/control from debian/control.in: a postgresql-NN-pg-prom for every
# installed postgresql-server-dev-NN (Debian's default would be only the
# release's own major)
export PG_SUPPORTED_VERSIONS=${PG_SUPPORTED_VERSIONS:-installed}
pg_buildext updatecontrol
echo "building: $(sed -n 's/^Package: //p' debian/control | tr '\n' ' ')"
dpkg-buildpackage -us -uc -b >"$build/build.log" 2>&1 || {
	tail -n 40 "$build/build.log"
	echo "package build FAILED" >&2
	exit 1
}
mkdir -p "$here/dist"
rm -f "$here"/dist/postgresql-*-pg-prom_*.deb
cp "$build"/postgresql-*-pg-prom_*.deb "$here/dist/"
rm -f "$here"/dist/*-dbgsym_*.deb
ls "$here"/dist/*.deb
