#!/usr/bin/env bash
# The version matrix: build pg_prom and run its whole suite (pg_regress and
# every TAP test, as the postgres OS user) against each PostgreSQL major, each
# on a fresh Debian root; and run the README's two commands on a fresh
# Debian 12. As root on this (Debian 12) machine; see the README, *PostgreSQL versions*.
#
#   scripts/matrix.sh all          17 18 19 16 readme
#   scripts/matrix.sh 17 19        some of them
#   scripts/matrix.sh 15           scripts/test.sh on this machine (Debian's 15)
#   scripts/matrix.sh --prepare all    only build the cached roots
#
# Targets:
#   15      scripts/test.sh here, the README's quick one-version run
#   16      bookworm root, PostgreSQL 16.0 built from source (assertions on)
#   17      trixie root, Debian's postgresql-17 (+ its Debian package)
#   18      sid root, postgresql-18 (+ package)
#   19      sid root + experimental's postgresql-19 (+ package)
#   readme  fresh Debian 12 root: scripts/run.sh, then scripts/test.sh
# In the version roots scripts/test.sh runs with FUZZ_SECONDS=0 (the fuzzer
# runs on this machine) and, for 16, PG_CONFIG=/usr/local/pgsql-16/... PACKAGE=0.
#
# Options:
#   --prepare   build (or find) the cached roots of the targets; run nothing
#   --keep      keep the root of a failed target (its path is printed)
#   --rebuild   rebuild the targets' cached roots (and the 16 build) first
#   --head      test the committed sources (git HEAD) with the working tree's
#               tooling (scripts/, debian/, .ci/), e.g. while sources are
#               being edited; default: the working tree (tracked and
#               untracked files, without ignored build products)
# Environment:
#   MATRIX_CACHE (/var/cache/pg_prom-ci), MATRIX_TMP (/var/tmp),
#   MATRIX_LOGDIR (/tmp/pg_prom-matrix-logs/<time>), MATRIX_MAX_AGE_DAYS (7),
#   MATRIX_SUITE_TIMEOUT (seconds per command, 1200), MATRIX_WERROR (1:
#   a compiler warning fails the target), MATRIX_PREPARE_AHEAD (1: build the
#   next targets' roots in the background, niced, while a suite runs),
#   PG16_SOURCE (the 16 source tarball), SUITE_LOCK (/tmp/pg_prom-suite.lock:
#   every suite run holds it, so suites never run two at a time).
# Exit status: 0 every target passed, 1 some failed, 2 the matrix itself
# could not run.
set -euo pipefail

PROG=matrix   # (log prefix, used by lib.sh)
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$REPO/scripts/matrix"
# shellcheck source=matrix/lib.sh
source "$HERE/lib.sh"

: "${MATRIX_SUITE_TIMEOUT:=1200}"
: "${MATRIX_WERROR:=1}"
: "${MATRIX_PREPARE_AHEAD:=1}"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

PREPARE=0 KEEP=0 REBUILD=0 HEAD_TREE=0
targets=()
while (($#)); do
    case "$1" in
        --prepare) PREPARE=1 ;;
        --keep) KEEP=1 ;;
        --rebuild) REBUILD=1 ;;
        --head) HEAD_TREE=1 ;;
        -h | --help) usage; exit 0 ;;
        all) read -r -a all <<<"$MATRIX_TARGETS"; targets+=("${all[@]}") ;;
        15 | 16 | 17 | 18 | 19 | readme) targets+=("$1") ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
((${#targets[@]})) || { usage >&2; exit 2; }
[[ $EUID -eq 0 ]] || die "run this as root (debootstrap, chroot, mount)"
for t in zstd debootstrap; do
    command -v $t >/dev/null || {
        log "installing $t on this machine"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $t >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $t >/dev/null; }
    }
done

LOG_DIR=${MATRIX_LOGDIR:-/tmp/pg_prom-matrix-logs/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$LOG_DIR"
T_START=$SECONDS

# ---------------------------------------------------------------- bookkeeping

STAGES=()        # "seconds<TAB>stage<TAB>result" lines, printed at the end
RESULTS=()       # "target<TAB>result<TAB>detail" lines
stage_done() {   # stage_done NAME T0 RESULT
    local secs=$((SECONDS - $2))
    STAGES+=("$secs"$'\t'"$1"$'\t'"$3")
    echo "=== [$(fmt_secs $((SECONDS - T_START)))] stage '$1': $3 in $(fmt_secs "$secs")"
}

ROOT=""          # the fresh root in use
PREP_PID=""      # the background preparer's process group
SUITE_FD=""      # 1 while the suite lock (on fd 9) is held
NEXT_TARGET=""   # the target whose fresh root is being made in the background
NEXT_PID=""      # ... by this subshell
REMOVERS=()      # background removals of finished roots
ROOTS_FILE="$LOG_DIR/.roots"   # every fresh root made, for the clean-up
KEPT=()          # roots kept by --keep
: >"$ROOTS_FILE"
finish() {
    local rc=$?
    trap - EXIT
    trap '' INT TERM HUP
    if [[ -n $SUITE_FD ]]; then exec 9>&-; fi
    if [[ -n $NEXT_PID ]] && kill -0 "$NEXT_PID" 2>/dev/null; then
        kill -TERM "$NEXT_PID" 2>/dev/null || true
    fi
    if [[ -n $PREP_PID ]] && kill -0 "$PREP_PID" 2>/dev/null; then
        log "stopping the background preparer (process group $PREP_PID)"
        kill -TERM -- "-$PREP_PID" 2>/dev/null || true
        wait "$PREP_PID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    local r k keep
    while read -r r; do
        [[ -n $r && -d $r ]] || continue
        keep=0
        for k in "${KEPT[@]}"; do [[ $k != "$r" ]] || keep=1; done
        ((keep)) && continue
        log "cleaning up $r"
        destroy_root "$r" || rc=2
    done <"$ROOTS_FILE"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Takes the suite lock on fd 9 (waiting, with a message, while another suite
# runs). Commands started while it is held get `9>&-`, so that nothing they
# leave behind keeps holding it.
suite_lock() {
    exec 9>"$SUITE_LOCK"
    if ! flock -n 9; then
        log "waiting for $SUITE_LOCK (another test suite is running)"
        flock 9
    fi
    SUITE_FD=1
}
suite_unlock() { exec 9>&-; SUITE_FD=""; }

# The cached root of a target (built if needed), niced: it shares the machine
# with a running suite.
get_root() {
    local target=$1 args=()
    ((REBUILD)) && args+=(--rebuild)
    nice -n 10 "$HERE/make-root" "${args[@]}" "$target" 9>&-
}

# Where the checkout goes in a target's root.
root_dest() { if [[ $1 == readme ]]; then echo /root/project; else echo /root/pg_prom; fi; }

# A fresh root of target $1: its packed root (built first if need be),
# unpacked into a new temp dir, with the working tree (tracked and untracked
# files, without build products) in root_dest, mounted and ready. Prints
# its path.
fresh_root() {
    local target=$1 tar root dest
    dest=$(root_dest "$target")
    tar=$(get_root "$target") || return 1
    root=$(mktemp -d "$MATRIX_TMP/pg_prom-matrix-$target.XXXXXX")
    echo "$root" >>"$ROOTS_FILE"
    chmod 755 "$root"
    unpack_root "$tar" "$root"
    mkdir -p "$root$dest"
    if ((HEAD_TREE)); then
        git -C "$REPO" archive HEAD | tar -xf - -C "$root$dest"
        (cd "$REPO" && git ls-files -z --cached --others --exclude-standard -- scripts debian .ci |
            xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$root$dest"
    elif git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
            xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$root$dest"
    else
        # not a git checkout: everything but what .gitignore names (build
        # products of this machine's PostgreSQL must not reach another)
        tar -C "$REPO" -cf - --exclude-vcs \
            --exclude-from=<(sed -n 's|^/||; s|/$||; /^[^#]/p' "$REPO/.gitignore" 2>/dev/null) . |
            tar -xf - -C "$root$dest"
    fi
    mount_chroot_fs "$root"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    # scripts/readme/routes.pl installs and removes packages: only in here
    touch "$root/.pg_prom-matrix-root"
    echo "$root"
}

# Starts making the fresh root of target $1 in the background (niced),
# while the current suite runs.
start_next_root() {
    local target=$1
    [[ -n $target && $target != 15 && -z $NEXT_PID ]] || return 0
    (
        renice -n 10 -p "$BASHPID" >/dev/null 2>&1 || true
        ionice -c2 -n7 -p "$BASHPID" >/dev/null 2>&1 || true
        trap - EXIT
        fresh_root "$target" >"$LOG_DIR/.next-root" 2>"$LOG_DIR/.next-root.log" 9>&-
    ) &
    NEXT_PID=$! NEXT_TARGET=$target
}

# Sets ROOT to a fresh root of target $1: the one made in the background, or
# a new one. Records the stage "<target> root".
take_root() {
    local target=$1 t0=$SECONDS how="" rc=0
    if [[ $NEXT_TARGET == "$target" ]]; then
        wait "$NEXT_PID" || rc=$?
        cat "$LOG_DIR/.next-root.log" >&2
        ROOT=$(cat "$LOG_DIR/.next-root" 2>/dev/null)
        NEXT_PID="" NEXT_TARGET=""
        how=" (made while the previous suite ran)"
    else
        ROOT=$(fresh_root "$target") || rc=$?
    fi
    if ((rc != 0)) || [[ -z $ROOT ]]; then
        stage_done "$target root" "$t0" FAIL
        RESULTS+=("$target"$'\t'FAIL$'\t'"could not make its root (see $MATRIX_CACHE/logs/make-root-$target.log)")
        return 1
    fi
    stage_done "$target root" "$t0" "ready$how"
}

# Removes the current root in the background.
remove_root() {
    local root=$ROOT
    ROOT=""
    (trap - EXIT; destroy_root "$root") 9>&- &
    REMOVERS+=($!)
}

# Runs a command in the root, as root, with a clean login environment plus
# the given VAR=value words, a time limit, output to the log (and here).
# Usage: in_root LOG DIR 'VAR=v ...' COMMAND
in_root() {
    local logf=$1 dir=$2 envs=$3 cmd=$4 rc=0
    set +e
    # shellcheck disable=SC2086
    chroot_env $envs timeout --kill-after=10 "$MATRIX_SUITE_TIMEOUT" \
        chroot "$ROOT" /bin/bash -lc "cd $dir && $cmd" </dev/null 9>&- 2>&1 |
        tee -a "$logf"
    rc=${PIPESTATUS[0]}
    set -e
    stop_root_procs "$ROOT" || true
    return "$rc"
}

# What a test.sh log says: compiler warnings and errors of pg_prom's own
# sources, failing tests. Prints a one-line summary; writes details to $2.
analyze_log() {
    local logf=$1 out=$2 warn err detail=""
    grep -E '^[^ ]*\.[ch]:[0-9]+(:[0-9]+)?: (warning|error):' "$logf" | sort -u >"$out.compiler" || true
    warn=$(grep -c ': warning:' "$out.compiler" || true)
    err=$(grep -c ': error:' "$out.compiler" || true)
    {
        echo "compiler: $warn warning(s), $err error(s)"
        sed 's/^/  /' "$out.compiler"
        echo "tests:"
        grep -E '^(not ok|test .* FAILED|t/[^ ]+ +\(Wstat|  Failed tests?:|  Non-zero exit|  Parse errors|Result: FAIL|# +Failed test)' "$logf" |
            sed 's/^/  /' | head -n 200 || true
        grep -E '^(pg_prom tests: |All [0-9]+ tests passed|Files=.*Tests=|package: )' "$logf" | sed 's/^/  /' || true
    } >"$out"
    ((err)) && detail+="$err compiler error(s) "
    ((warn)) && detail+="$warn compiler warning(s) "
    local failed
    # prove's "Test Summary Report": t/x.pl (Wstat: 512 (exited 2) Tests: 33 Failed: 2)
    failed=$(awk '/^Test Summary Report/ { f = 1; next }
        f && /^t\/[^ ]+ +\(Wstat/ {
            what = ""
            if (match($0, /Failed: [1-9][0-9]*/)) what = substr($0, RSTART + 8, RLENGTH - 8) " failed"
            else if (match($0, /exited [0-9]+/)) what = substr($0, RSTART, RLENGTH)
            printf "%s%s (%s)", sep, $1, what; sep = ", "
        }' "$logf") || true
    [[ -z $failed ]] || detail+="TAP: $failed "
    local regress
    # pg_regress: "test name ... FAILED" (15), "not ok 3 - name" (16+)
    regress=$( { grep -E '^test [a-z_0-9]+ +\.\.\. FAILED' "$logf" | awk '{print $2}'
                 grep -E '^not ok [0-9]+ +[-+] +[a-z_0-9]+' "$logf" | awk '{print $5}'; } |
        tr '\n' ',' | sed 's/,$//') || true
    [[ -z $regress ]] || detail+="regress: $regress "
    echo "${detail% }"
}

# ---------------------------------------------------------------- targets

run_host() {
    local t0=$SECONDS logf="$LOG_DIR/15.log" rc=0
    echo "=== 15: scripts/test.sh on this machine"
    suite_lock
    stage_done "15 waiting for the suite lock" "$t0" ok
    t0=$SECONDS
    start_next_root "$UPCOMING"
    set +e
    (cd "$REPO" && bash scripts/test.sh 9>&-) 2>&1 | tee "$logf"
    rc=${PIPESTATUS[0]}
    set -e
    suite_unlock
    local detail
    detail=$(analyze_log "$logf" "$LOG_DIR/15.summary")
    result_of 15 "$rc" "$detail"
    stage_done "15 suite (this machine)" "$t0" "${LAST_RESULT}"
}

LAST_RESULT=""
# Records a target's result: exit status $2, analysis $3.
result_of() {
    local target=$1 rc=$2 detail=$3 res=PASS
    if ((rc != 0)); then
        res=FAIL
        [[ -n $detail ]] || detail="exit $rc: $(grep -E -m1 'postmaster failed|Bail out|FATAL|PANIC|ERROR' "$LOG_DIR/$target.log" 2>/dev/null || echo "see $LOG_DIR/$target.log")"
        [[ $rc == 124 || $rc == 137 ]] && detail="timed out after ${MATRIX_SUITE_TIMEOUT}s; $detail"
    elif ((MATRIX_WERROR)) && [[ $detail == *"warning"* ]]; then
        res=FAIL
        detail="-Werror: $detail"
    fi
    LAST_RESULT=$res
    RESULTS+=("$target"$'\t'"$res"$'\t'"${detail:-}")
}

run_version() {
    local target=$1 t0 logf rc=0 envs
    logf="$LOG_DIR/$target.log"
    envs=$(target_test_env "$target")
    echo "=== $target: PostgreSQL $target on Debian $(target_suite "$target") ($envs)"
    take_root "$target" || return 0

    t0=$SECONDS
    suite_lock
    stage_done "$target waiting for the suite lock" "$t0" ok
    start_next_root "$UPCOMING"
    t0=$SECONDS
    in_root "$logf" /root/pg_prom "$envs" 'scripts/test.sh' || rc=$?
    stage_done "$target build + package + suite" "$t0" "exit $rc"
    if ((rc != 0)) && grep -q -E '^(not ok [0-9]+ |test [a-z_0-9]+ +\.\.\. FAILED)' "$logf" &&
        ! grep -q -E '^Files=[0-9]+, Tests=' "$logf"; then
        # pg_regress failed, so make stopped before the TAP tests: run them
        # too (in the work dir test.sh kept), so that one run reports both
        t0=$SECONDS
        echo "=== $target: the TAP tests after the pg_regress failure" | tee -a "$logf"
        in_root "$logf" /root/pg_prom "$envs" \
            '. scripts/lib.sh && w=$(ls -d /tmp/pg_prom-test.* | head -n 1) && ulimit -n 8192 &&
             runuser -u postgres -- make -C "$w" installcheck REGRESS= PG_CONFIG="$PG_CONFIG" PROVE_FLAGS=--timer' ||
            true
        stage_done "$target TAP tests after pg_regress failed" "$t0" ok
    fi
    suite_unlock
    if ((rc != 0)) && grep -q -E '^[^ ]*\.[ch]:[0-9]+:[0-9]+: error:' "$logf"; then
        # the build stopped at the first error: list them all (make -k)
        t0=$SECONDS
        echo "=== $target: every compiler error and warning (make -k)" | tee -a "$logf"
        in_root "$logf" /root/pg_prom "$envs" \
            '. scripts/lib.sh && make -s clean && make -k -s PG_CONFIG="$PG_CONFIG" with_llvm=no all >/dev/null' || true
        stage_done "$target compile diagnostics (make -k)" "$t0" ok
    fi
    local detail
    detail=$(analyze_log "$logf" "$LOG_DIR/$target.summary")
    result_of "$target" "$rc" "$detail"
    finish_root "$target" "$rc"
}

# Keeps what a failed run left (test.sh keeps its work dir), then removes the
# root (or keeps it with --keep).
finish_root() {
    local target=$1 rc=$2 d
    if ((rc != 0)); then
        for d in "$ROOT"/tmp/pg_prom-test.*; do
            [[ -d $d ]] || continue
            mkdir -p "$LOG_DIR/$target-work/tmp_check"
            # the logs, not the TAP nodes' data directories
            cp -a "$d"/tmp_check/log "$LOG_DIR/$target-work/tmp_check/" 2>/dev/null || true
            cp -a "$d"/regression.* "$d"/log "$d/fuzz.log" "$LOG_DIR/$target-work/" 2>/dev/null || true
        done
    fi
    if ((KEEP && rc != 0)); then
        stop_root_procs "$ROOT" || true
        umount_under "$ROOT" || true
        log "$target: root kept in $ROOT (mount /proc etc. again to chroot into it; remove with rm -rf --one-file-system)"
        KEPT+=("$ROOT")
        ROOT=""
    else
        remove_root
    fi
}

# The README's two commands, as a new user types them on a fresh Debian 12.
run_readme() {
    local t0 rc=0 n=0 cmd logf detail=""
    local cmds=('scripts/run.sh' 'scripts/test.sh')
    # MATRIX_README_ROUTES_ONLY=1: only the README's blocks (while editing them)
    ((${MATRIX_README_ROUTES_ONLY:-0})) && cmds=()
    echo "=== readme: the README's commands on a fresh Debian 12 (bookworm) root"
    if ((${#cmds[@]})); then take_root readme || return 0; fi
    for cmd in "${cmds[@]}"; do
        n=$((n + 1))
        logf="$LOG_DIR/readme-$n.log"
        printf '$ %s\n' "$cmd" >"$logf"
        # the test command is a suite run: one at a time
        if [[ $cmd == *test.sh* ]]; then
            t0=$SECONDS
            suite_lock
            stage_done "readme waiting for the suite lock" "$t0" ok
            start_next_root "$UPCOMING"
        fi
        t0=$SECONDS
        local crc=0
        in_root "$logf" /root/project '' "$cmd" || crc=$?
        [[ -z $SUITE_FD ]] || suite_unlock
        if ((crc == 0)); then
            stage_done "readme \$ $cmd" "$t0" PASS
        else
            stage_done "readme \$ $cmd" "$t0" "FAIL (exit $crc)"
            detail+="'$cmd' failed (exit $crc, log $logf); "
            rc=1
        fi
    done
    if ((${#cmds[@]})); then finish_root readme "$rc"; fi

    # Then the README's own blocks, top to bottom, on another fresh root: both
    # install routes (package, PGXS), the configuration, the SQL, the
    # uninstall steps and the kit's checks (scripts/readme/routes.pl).
    if take_root readme; then
        logf="$LOG_DIR/readme-routes.log"
        cmd='scripts/readme/routes.pl'
        printf '$ %s\n' "$cmd" >"$logf"
        t0=$SECONDS
        suite_lock
        stage_done "readme waiting for the suite lock" "$t0" ok
        start_next_root "$UPCOMING"
        t0=$SECONDS
        local crc=0
        in_root "$logf" /root/project '' "$cmd" || crc=$?
        suite_unlock
        if ((crc == 0)); then
            stage_done "readme \$ $cmd" "$t0" PASS
        else
            stage_done "readme \$ $cmd" "$t0" "FAIL (exit $crc)"
            detail+="'$cmd' failed (exit $crc, log $logf: $(grep -m1 '^=== .* failed' "$logf" || true)); "
            rc=1
        fi
        finish_root readme "$crc"
    else
        detail+="no root for the README's blocks; "
        rc=1
    fi
    local a=""
    [[ ! -e $LOG_DIR/readme-2.log ]] || a=$(analyze_log "$LOG_DIR/readme-2.log" "$LOG_DIR/readme.summary")
    result_of readme "$rc" "${detail}${a}"
}

# ---------------------------------------------------------------- main

tree="the working tree"
((HEAD_TREE)) && tree="HEAD $(git -C "$REPO" rev-parse --short HEAD) + the working tree's scripts/ debian/ .ci/"
echo "=== pg_prom matrix: ${targets[*]}; testing $tree; logs in $LOG_DIR; cache $MATRIX_CACHE"

if ((PREPARE)); then
    status=0
    for t in "${targets[@]}"; do
        [[ $t != 15 ]] || continue
        t0=$SECONDS
        if get_root "$t" >/dev/null; then stage_done "$t root" "$t0" ok; else stage_done "$t root" "$t0" FAIL; status=1; fi
    done
    exit $status
fi

# Build the roots still missing in the background (niced; one at a time,
# in the order of the targets) while the first suites run.
roots=()
for t in "${targets[@]}"; do [[ $t == 15 ]] || roots+=("$t"); done
# (Not with --rebuild: each target rebuilds its own root when it comes.)
if ((MATRIX_PREPARE_AHEAD && !REBUILD && ${#targets[@]} > 1 && ${#roots[@]} > 0)); then
    setsid nice -n 19 ionice -c2 -n7 bash -c 'mr=$1; shift; for t; do "$mr" "$t" >/dev/null || true; done' _ \
        "$HERE/make-root" "${roots[@]}" >"$LOG_DIR/prepare-ahead.log" 2>&1 </dev/null &
    PREP_PID=$!
    log "building the roots of ${roots[*]} in the background (pid $PREP_PID, log $LOG_DIR/prepare-ahead.log)"
fi

for i in "${!targets[@]}"; do
    t=${targets[$i]}
    UPCOMING=${targets[$((i + 1))]:-}
    case $t in
        15) run_host ;;
        readme) run_readme ;;
        *) run_version "$t" ;;
    esac
done

if [[ -n $PREP_PID ]]; then wait "$PREP_PID" 2>/dev/null || true; PREP_PID=""; fi
t0=$SECONDS
for pid in "${REMOVERS[@]}"; do wait "$pid" || log "could not remove a root (see above)"; done
stage_done "removing the last roots" "$t0" ok

echo
echo "=== stages (wall clock)"
for s in "${STAGES[@]}"; do
    IFS=$'\t' read -r secs name res <<<"$s"
    printf '  %-44s %8s  %s\n' "$name" "$(fmt_secs "$secs")" "$res"
done
printf '  %-44s %8s\n' "total" "$(fmt_secs $((SECONDS - T_START)))"
echo
echo "=== results"
status=0
for r in "${RESULTS[@]}"; do
    IFS=$'\t' read -r target res detail <<<"$r"
    printf '  %-7s %-5s %s\n' "$target" "$res" "$detail"
    [[ $res == PASS ]] || status=1
done
echo "logs: $LOG_DIR (per target: <target>.log, <target>.summary)"
if ((status)); then echo "pg_prom matrix: FAILED"; else echo "pg_prom matrix: all passed"; fi
exit $status
