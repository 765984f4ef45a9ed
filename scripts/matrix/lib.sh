# shellcheck shell=bash
# Shared settings and helpers of the version matrix (scripts/matrix.sh,
# make-root, readme-check): where the cache lives, which Debian suite ships
# which PostgreSQL major, how this machine's apt sources are read and turned
# into another suite's, and how a chroot is mounted, emptied of its processes
# and taken down again.
# Adapted from the team's fresh-machine kit (tools/fresh: make-root,
# readme-check, lib.sh). Every setting can be overridden from the environment.

# Cache of packed roots and of the PostgreSQL 16 build, keyed on their inputs.
: "${MATRIX_CACHE:=/var/cache/pg_prom-ci}"
# A packed root older than this is rebuilt (security updates, a newer rc).
: "${MATRIX_MAX_AGE_DAYS:=7}"
# Where roots are unpacked for a run (each in its own temp dir).
: "${MATRIX_TMP:=/var/tmp}"
# The suite this machine runs: its apt entries name the mirror to use.
: "${MATRIX_HOST_SUITE:=bookworm}"
# What a fresh developer machine starts with, on top of minbase (the root the
# README's commands run in): nothing PostgreSQL-related.
: "${FRESH_PACKAGES:=gcc make git curl ca-certificates sudo perl python3}"
# The lock every full test-suite run holds (2 cores: one suite at a time).
: "${SUITE_LOCK:=/tmp/pg_prom-suite.lock}"

# PATH of a root login shell on Debian; /etc/profile sets the same one.
FRESH_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log()  { printf '%s: %s\n' "${PROG:-matrix}" "$*" >&2; }
die()  { log "ERROR: $*"; exit 2; }

# "12m05s" for a number of seconds.
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# ---------------------------------------------------------------- targets

# The targets of the matrix and where each PostgreSQL comes from:
#   readme  fresh Debian 12 (bookworm) + FRESH_PACKAGES: the README's commands
#   16      bookworm + PostgreSQL 16 built from source (PG16_SOURCE tarball)
#   17      trixie (Debian 13): postgresql-17
#   18      sid: postgresql-18
#   19      sid + experimental (pinned for PostgreSQL's packages only): postgresql-19
# (`all` runs them in this order: the roots of 17-19 are quick to build, so
# they are ready by the time 15's suite is done while 16's build runs on.)
MATRIX_TARGETS="17 18 19 16 readme"

# The suite debootstrap installs for a target.
target_suite() {
    case "$1" in
        readme | 16) echo bookworm ;;
        17) echo trixie ;;
        18 | 19) echo sid ;;
        *) die "unknown target '$1' (known: 15 $MATRIX_TARGETS)" ;;
    esac
}

# The apt suites a target's root uses ("extra" suites are pinned below).
target_apt_suites() {
    case "$1" in
        readme | 16) echo bookworm bookworm-updates bookworm-security ;;
        17) echo trixie trixie-updates trixie-security ;;
        18) echo sid ;;
        19) echo sid experimental ;;
    esac
}

# apt preferences of a target's root (empty: none).
target_apt_preferences() {
    case "$1" in
        19) cat <<'EOF_PIN'
# PostgreSQL 19 comes from experimental; everything else from sid (a
# blanket "-t experimental" would pull in a perl that sid's modules refuse).
Package: postgresql* libpq* libecpg* libpgtypes*
Pin: release a=experimental
Pin-Priority: 990
EOF_PIN
            ;;
    esac
}

# The PostgreSQL 16 source tarball: $PG16_SOURCE, else vendor/ next to the
# repository ($1), else the team's shared vendor directory.
pg16_source() {
    local repo=$1 f
    for f in "${PG16_SOURCE:-}" "$repo/../shared/vendor/postgresql-16.0.tar.xz" \
        /work/shared/vendor/postgresql-16.0.tar.xz; do
        [[ -n $f && -f $f ]] && { realpath "$f"; return 0; }
    done
    return 1
}
# Where the 16 build is installed inside its root, and how it is configured.
PG16_PREFIX=/usr/local/pgsql-16
PG16_CONFIGURE="--enable-cassert --enable-debug --enable-tap-tests --with-openssl"
PG16_BUILD_DEPS="bison flex pkg-config libicu-dev libreadline-dev zlib1g-dev libssl-dev libipc-run-perl gcc make perl xz-utils"

# The environment scripts/test.sh runs with in a target's root.
target_test_env() {
    case "$1" in
        16) echo "PG_CONFIG=$PG16_PREFIX/bin/pg_config PACKAGE=0 FUZZ_SECONDS=0" ;;
        # (the package only for this major: 19's root also has 18's dev files,
        # which sid's postgresql-server-dev-all depends on)
        17 | 18 | 19) echo "PG_MAJOR=$1 FUZZ_SECONDS=0 PG_SUPPORTED_VERSIONS=$1" ;;
    esac
}

# ---------------------------------------------------------------- apt sources

# Prints "URI SUITE SIGNED_BY COMPONENT..." for every enabled binary ("deb")
# source of this machine whose suite is $MATRIX_HOST_SUITE or $MATRIX_HOST_SUITE-*
# (bookworm, bookworm-updates, bookworm-security, ...), reading both the
# one-line (*.list) and the deb822 (*.sources) formats, the way apt does.
# SIGNED_BY is "-" where the entry names no keyring.
host_debian_sources() {
    local f files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && files+=("$f"); done
    ((${#files[@]})) && awk -v suite="$MATRIX_HOST_SUITE" '
        /^[[:space:]]*deb[[:space:]]/ {
            line = $0; sub(/#.*/, "", line)
            signed = "-"
            if (match(line, /\[[^]]*\]/)) {
                opts = substr(line, RSTART + 1, RLENGTH - 2)
                line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
                n = split(opts, o, /[[:space:]]+/)
                for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) signed = substr(o[i], 11)
            }
            n = split(line, w, /[[:space:]]+/)
            # w[1] may be empty when the line is indented
            k = (w[1] == "") ? 2 : 1
            uri = w[k + 1]; s = w[k + 2]; comps = ""
            for (i = k + 3; i <= n; i++) if (w[i] != "") comps = comps " " w[i]
            if (s == suite || index(s, suite "-") == 1) print uri, s, signed comps
        }' "${files[@]}"

    files=()
    for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && files+=("$f"); done
    ((${#files[@]})) && awk -v suite="$MATRIX_HOST_SUITE" '
        function flush(   nu, ns, u, s, i, uris, suites, typ) {
            if (f["types"] != "" && (" " f["types"] " ") ~ / deb / &&
                tolower(f["enabled"]) != "no") {
                nu = split(f["uris"], uris, /[[:space:]]+/)
                ns = split(f["suites"], suites, /[[:space:]]+/)
                for (u = 1; u <= nu; u++) for (s = 1; s <= ns; s++) {
                    if (uris[u] == "" || suites[s] == "") continue
                    if (suites[s] == suite || index(suites[s], suite "-") == 1)
                        print uris[u], suites[s], (f["signed-by"] == "" ? "-" : f["signed-by"]), f["components"]
                }
            }
            delete f; last = ""
        }
        FNR == 1 && NR != 1 { flush() }
        /^[[:space:]]*$/     { flush(); next }
        /^#/                 { next }
        /^[[:space:]]/       { if (last != "") f[last] = f[last] " " $0; next }
        {
            key = tolower(substr($0, 1, index($0, ":") - 1))
            val = substr($0, index($0, ":") + 1)
            gsub(/^[[:space:]]+|[[:space:]]+$/, "", val)
            f[key] = val; last = key
        }
        END { flush() }' "${files[@]}" |
        # an inline (multi-line) Signed-By key cannot travel on one line: say so
        awk '{ if ($3 ~ /BEGIN/) $3 = "-"; print }'
    return 0
}

# The apt settings this machine needs to reach its mirror (proxies, and the
# Release-file date checks a snapshot mirror needs switched off), in
# apt.conf syntax.
host_apt_acquire_settings() {
    apt-config dump 2>/dev/null |
        grep -E '^Acquire::((https?|ftp)::Proxy(::[^ ]+)?|Check-Valid-Until|Check-Date) ' || true
}

# The apt entries of a target's root, "URI SUITE SIGNED_BY COMPONENT...":
# this machine's entries for bookworm, bookworm-updates and -security, with
# the suite names of the target (trixie, trixie-updates, ...; sid and
# experimental from the archive that serves bookworm itself).
target_sources() {
    local target=$1 sources t suffix line
    sources=$(host_debian_sources)
    for t in $(target_apt_suites "$target"); do
        case $t in
            *-updates) suffix=-updates ;;
            *-security) suffix=-security ;;
            *) suffix= ;;
        esac
        line=$(awk -v s="$MATRIX_HOST_SUITE$suffix" -v t="$t" '$2 == s { $2 = t; print; exit }' <<<"$sources")
        [[ -n $line ]] || die "no apt source of this machine for $MATRIX_HOST_SUITE$suffix (to derive $t from)"
        echo "$line"
    done
}

# Writes the apt sources ("URI SUITE SIGNED_BY COMPONENT..." lines on stdin)
# into root $1 as deb822, copying a keyring the root lacks from this machine.
write_root_sources() {
    local root=$1 uri suite signed comps
    rm -f -- "$root/etc/apt/sources.list"
    {
        echo "# Written by pg_prom's scripts/matrix/make-root from this machine's apt sources."
        while read -r uri suite signed comps; do
            printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: %s\n' "$uri" "$suite" "$comps"
            if [[ $signed != - ]]; then
                printf 'Signed-By: %s\n' "$signed"
                if [[ $signed == /* && -f $signed && ! -e $root$signed ]]; then
                    install -D -m 644 "$signed" "$root$signed"
                fi
            fi
        done
    } >"$root/etc/apt/sources.list.d/debian.sources"
}

# ---------------------------------------------------------------- packed roots

# Packs directory $1 into the zstd tarball $2 (atomically: $2.partial, then
# renamed).
pack_root() {
    local dir=$1 tar=$2
    [[ -z $(mounts_under "$dir") ]] || die "something is mounted below $dir; not packing it"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$dir" -cf - . |
        zstd -q -T0 -3 -o "$tar.partial" -f
    mv -f -- "$tar.partial" "$tar"
}

# Unpacks the zstd tarball $1 into the existing directory $2.
unpack_root() {
    zstd -q -dc -- "$1" | tar --numeric-owner --xattrs --xattrs-include='*' -xpf - -C "$2"
}

# ---------------------------------------------------------------- chroot

# A clean environment for commands run inside the root: what a root login
# on a fresh machine has, none of the caller's PG*, LANG, proxies, ...
chroot_env() {
    env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
        TERM="${TERM:-dumb}" PATH="$FRESH_PATH" "$@"
}

# Mount points at or below directory $1 (deepest first).
mounts_under() {
    local root=$1
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r -u
}

# Bind-mounts the kernel file systems a chroot needs, plus a private tmpfs on
# /dev/shm (POSIX shared memory, e.g. PostgreSQL's dynamic shared memory).
mount_chroot_fs() {
    local root=$1
    mount --bind /proc "$root/proc"
    mount --bind /sys "$root/sys"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
}

# Unmounts everything at or below $1, including mounts a command made inside
# the chroot. Returns non-zero if something is still mounted afterwards.
umount_under() {
    local root=$1 mp try
    for try in 1 2 3; do
        while read -r mp; do
            [[ -n $mp ]] || continue
            umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ||
                log "warning: could not unmount $mp"
        done < <(mounts_under "$root")
        [[ -z $(mounts_under "$root") ]] && return 0
        sleep "$try"
    done
    log "ERROR: still mounted below $root:"
    mounts_under "$root" >&2
    return 1
}

# PIDs of the processes whose root directory is $1 (or below it): exactly the
# processes running inside that chroot, found through /proc/PID/root.
root_pids() {
    local root=$1 p link
    for p in /proc/[0-9]*; do
        link=$(readlink "$p/root" 2>/dev/null) || continue
        if [[ $link == "$root" || $link == "$root"/* ]]; then
            printf '%s\n' "${p#/proc/}"
        fi
    done
}

# Sends signal $2 to PID $3 if its root is still $1 (guards against a PID
# having been reused by an unrelated process since it was listed).
signal_if_in_root() {
    local root=$1 sig=$2 pid=$3 link
    link=$(readlink "/proc/$pid/root" 2>/dev/null) || return 0
    if [[ $link == "$root" || $link == "$root"/* ]]; then
        kill "-$sig" "$pid" 2>/dev/null || true
    fi
}

# Stops every process left running inside the chroot $1 (servers a command
# started in the background, ...): SIGTERM, then SIGKILL after
# $FRESH_KILL_GRACE seconds (default 10). Touches no other process.
stop_root_procs() {
    local root=$1 grace=${FRESH_KILL_GRACE:-10} pids pid desc="" deadline
    mapfile -t pids < <(root_pids "$root")
    ((${#pids[@]})) || return 0
    for pid in "${pids[@]}"; do
        desc+=" $pid($(cat "/proc/$pid/comm" 2>/dev/null || echo '?'))"
    done
    log "stopping ${#pids[@]} process(es) left running in the chroot:$desc"
    for pid in "${pids[@]}"; do signal_if_in_root "$root" TERM "$pid"; done
    deadline=$((SECONDS + grace))
    while ((SECONDS < deadline)); do
        mapfile -t pids < <(root_pids "$root")
        ((${#pids[@]})) || return 0
        sleep 0.5
    done
    log "still running after ${grace}s, sending SIGKILL:$(printf ' %s' "${pids[@]}")"
    for pid in "${pids[@]}"; do signal_if_in_root "$root" KILL "$pid"; done
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
        mapfile -t pids < <(root_pids "$root")
        ((${#pids[@]})) || return 0
        sleep 0.5
    done
    log "ERROR: processes survive SIGKILL in $root:$(printf ' %s' "${pids[@]}")"
    return 1
}

# Takes a chroot down: stops its processes, unmounts everything below it and,
# only once nothing is mounted there any more, deletes it (never crossing
# into another file system). Safe to call more than once.
destroy_root() {
    local root=$1 rc=0
    [[ -n $root && $root != / && -d $root ]] || return 0
    stop_root_procs "$root" || rc=1
    if umount_under "$root"; then
        rm -rf --one-file-system -- "$root" || rc=1
    else
        log "ERROR: left $root in place because something is still mounted in it"
        rc=1
    fi
    return "$rc"
}
