# Shared by scripts/run.sh and scripts/test.sh: packages and build steps.

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "run this as root (it installs packages and the extension)" >&2
		exit 1
	fi
}

# Install only what is missing, so repeated runs are quick.
install_packages() {
	local pkgs=(make gcc postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libkrb5-dev libssl-dev zlib1g-dev openssl
		libipc-run-perl curl prometheus python3-prometheus-client python3-yaml prometheus-alertmanager clang libclang-rt-14-dev
		debhelper postgresql-server-dev-all dpkg-dev build-essential git)
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
	make -C "$here" -s PG_CONFIG=$PG_BIN/../bin/pg_config all >/dev/null
	make -C "$here" -s install >/dev/null
}

# The first port from $1 up that nothing on 127.0.0.1 listens on.
pick_port() {
	local p=$1
	while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do
		p=$((p + 1))
	done
	echo $p
}
