# Shared by scripts/run.sh and scripts/test.sh: packages and build steps.

# Which PostgreSQL: by default Debian's packages of major $PG_MAJOR (15, the
# host's); PG_MAJOR=17 scripts/test.sh installs and tests postgresql-17 (on a
# Debian release that ships it). PG_CONFIG=/path/to/bin/pg_config instead
# uses a PostgreSQL built from source: its major comes from pg_config, no
# postgresql-NN packages are installed and the Debian package is skipped.
PG_SOURCE_BUILD=0
if [ -n "${PG_CONFIG:-}" ]; then
	case "$PG_CONFIG" in
	/usr/lib/postgresql/[0-9]*/bin/pg_config)
		PG_BIN=${PG_CONFIG%/pg_config} ;;
	*)
		# (not built yet: its directory)
		PG_BIN=$("$PG_CONFIG" --bindir 2>/dev/null || dirname "$PG_CONFIG")
		case "$PG_BIN" in
		/usr/lib/postgresql/[0-9]*/bin) ;;
		*) PG_SOURCE_BUILD=1 ;;
		esac ;;
	esac
	if [ "$PG_SOURCE_BUILD" = 1 ]; then
		PG_MAJOR=${PG_MAJOR:-$("$PG_CONFIG" --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')}
		PACKAGE=${PACKAGE:-0}
	else
		PG_MAJOR=${PG_BIN#/usr/lib/postgresql/}
		PG_MAJOR=${PG_MAJOR%/bin}
	fi
else
	PG_MAJOR=${PG_MAJOR:-15}
	PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
fi
PG_CONFIG=${PG_CONFIG:-$PG_BIN/pg_config}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "run this as root (it installs packages and the extension)" >&2
		exit 1
	fi
}

# The packages the scripts need, one per line: to build and test pg_prom,
# the Debian package tooling unless PACKAGE=0, clang unless FUZZ_SECONDS=0.
# PACKAGES_FOR=package (scripts/package.sh): only what building the Debian
# package takes.
pg_prom_packages() {
	if [ "${PACKAGES_FOR:-test}" = package ]; then
		printf '%s\n' make gcc libkrb5-dev libssl-dev zlib1g-dev debhelper \
			postgresql-server-dev-all dpkg-dev build-essential
		[ "$PG_SOURCE_BUILD" = 1 ] || echo "postgresql-server-dev-$PG_MAJOR"
		return
	fi
	local pkgs=(make gcc libkrb5-dev libssl-dev zlib1g-dev openssl libipc-run-perl curl prometheus
		python3-prometheus-client python3-yaml prometheus-alertmanager git)
	if [ "$PG_SOURCE_BUILD" = 0 ]; then
		pkgs+=("postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR")
	fi
	if [ "${PACKAGE:-1}" != 0 ]; then
		pkgs+=(debhelper postgresql-server-dev-all dpkg-dev build-essential)
	fi
	if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
		# libFuzzer's runtime comes with the default clang's compiler-rt
		case "$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" in
		bookworm) pkgs+=(clang libclang-rt-14-dev) ;;
		*) pkgs+=(clang libclang-rt-dev) ;;
		esac
	fi
	printf '%s\n' "${pkgs[@]}"
}

# Install only what is missing, so repeated runs are quick.
install_packages() {
	local pkgs
	mapfile -t pkgs < <(pg_prom_packages)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

build_and_install() {
	echo "== building pg_prom"
	make -C "$here" -s PG_CONFIG="$PG_CONFIG" all >/dev/null
	make -C "$here" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# The first port from $1 up that nothing on 127.0.0.1 listens on.
pick_port() {
	local p=$1
	while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do
		p=$((p + 1))
	done
	echo $p
}
