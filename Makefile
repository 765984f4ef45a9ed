# pg_prom: Prometheus metrics served from inside PostgreSQL (PGXS build)

EXTENSION = pg_prom
MODULE_big = pg_prom
OBJS = \
	pg_prom.o \
	src/guc.o \
	src/names.o \
	src/shmem.o \
	src/txn.o \
	src/workers.o \
	src/backend/appmetrics.o \
	src/backend/hooks.o \
	src/backend/legacy.o \
	src/server/auth.o \
	src/server/collect.o \
	src/server/conn.o \
	src/server/endpoint.o \
	src/server/http.o \
	src/server/listen.o \
	src/server/protobuf.o \
	src/server/routes.o \
	src/server/tls.o \
	src/scrape/collector.o \
	src/scrape/custom.o \
	src/scrape/custom_worker.o \
	src/scrape/expo.o \
	src/scrape/openmetrics.o \
	src/scrape/query.o \
	src/scrape/render.o \
	src/scrape/scrape.o \
	src/scrape/stream.o \
	src/scrape/tables.o \
	src/scrape/tables_worker.o \
	src/scrape/tables_render.o \
	src/scrape/relcat.o \
	src/scrape/collectors/app_metrics.o \
	src/scrape/collectors/collectors.o \
	src/scrape/collectors/connections.o \
	src/scrape/collectors/database.o \
	src/scrape/collectors/errors.o \
	src/scrape/collectors/locks.o \
	src/scrape/collectors/opt_in.o \
	src/scrape/collectors/replication.o \
	src/scrape/collectors/roles.o \
	src/scrape/collectors/stat_io.o \
	src/scrape/collectors/stat_wal.o \
	src/scrape/collectors/subscription.o \
	src/scrape/collectors/process.o \
	src/scrape/collectors/self.o \
	src/scrape/collectors/settings.o \
	src/scrape/collectors/stat_activity.o \
	src/scrape/collectors/stat_archiver.o \
	src/scrape/collectors/stat_bgwriter.o \
	src/scrape/collectors/stat_database.o \
	src/scrape/collectors/stat_progress_vacuum.o \
	src/scrape/collectors/stat_user_tables.o \
	src/scrape/collectors/statements.o \
	src/scrape/collectors/static.o \
	src/scrape/collectors/wal.o
DATA = pg_prom--1.1.sql pg_prom--1.0--1.1.sql
PGFILEDESC = "pg_prom - Prometheus metrics from inside PostgreSQL"

SHLIB_LINK = -lssl -lcrypto -lz
PG_CPPFLAGS = -I$(srcdir)/src
# only _PG_init, the SQL-callable functions and the workers' entry points
# (all PGDLLEXPORT) are exported
PG_CFLAGS = -fvisibility=hidden -Wall -Wmissing-prototypes -Wpointer-arith -Werror=vla -Werror=implicit-function-declaration

REGRESS = metrics privileges settings dropin hooks app_metrics custom_queries
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf
TAP_TESTS = 1
EXTRA_CLEAN = tmp_check_regress fuzz/http_fuzz fuzz/work

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild everything when a header
# changes (struct layouts are shared between files).
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h $(srcdir)/src/scrape/collectors/*.h)

# Out-of-tree builds (Debian's pg_buildext builds in build-<version>/)
# need the object directories.
ifneq ($(srcdir),.)
$(shell mkdir -p src/server src/scrape/collectors src/backend)
endif

# Fuzzing the HTTP request parser with libFuzzer under ASan and UBSan:
#   make fuzz FUZZ_SECONDS=600
# Any finding stops the run with a non-zero status and a crash-* file.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60

fuzz/http_fuzz: fuzz/http_fuzz.c src/server/http.c src/server/http.h
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc fuzz/http_fuzz.c src/server/http.c -o $@

fuzz: fuzz/http_fuzz
	rm -rf fuzz/work && mkdir -p fuzz/work && cp fuzz/corpus/http/* fuzz/work/
	./fuzz/http_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-print_final_stats=1 -artifact_prefix=fuzz/ fuzz/work

.PHONY: fuzz

# Build and install pg_prom with UndefinedBehaviorSanitizer (any undefined
# behaviour aborts the process, which the TAP tests' log check reports),
# then run the whole suite against it:
#   make sanitize-install     (as root)
#   make sanitize-check       (as the postgres OS user)
# AddressSanitizer covers the HTTP parser through the fuzzer (make fuzz);
# preloading the ASan runtime into an uninstrumented postgres deadlocks at
# startup on Debian's PostgreSQL 15, so the server build is UBSan only.
SANITIZE_FLAGS = -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

sanitize-install:
	$(MAKE) clean
	$(MAKE) with_llvm=no PG_CFLAGS="$(PG_CFLAGS) $(SANITIZE_FLAGS)" \
		SHLIB_LINK="-lssl -lcrypto -lz -fsanitize=undefined" install

sanitize-check:
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) installcheck PROVE_FLAGS="--timer"

.PHONY: sanitize-install sanitize-check
