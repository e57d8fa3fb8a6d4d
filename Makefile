# StreamGuard build: one hand-written GNU Makefile.
# Everything under src/ except src/cli builds into $(BUILD)/libstreamguard.a, which the CLI,
# every test and every benchmark link. `make SAN=1` builds the same tree with ASan+UBSan into
# build-asan/. Targets: all (default), test, demo, fuzz, bench, clean, format.

SAN ?=
ifeq ($(SAN),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT ?= -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT ?= -O2 -g
endif

CC ?= cc
PKGS := rdkafka libmicrohttpd libcjson yaml-0.1 libzstd zlib snappy
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) rocksdb 2>/dev/null)
# RocksDB is linked from Debian's static archive (librocksdb-dev ships both): the shared
# library reaches its thread-locals (perf and I/O statistics contexts, touched on every
# write and key comparison path) through __tls_get_addr calls; linked into the executable
# they are plain TLS loads. A replay used 8-13 % less CPU (docs/BENCHMARKS.md, part 5).
# Its own dependencies (librocksdb-dev pulls them in) follow it.
# The wrap sends RocksDB's CRC32C (every WAL record) to the hardware one in
# src/storage/sg_crc32c.c: Debian's portable build computes it in software.
ROCKSDB_LIBS := -Wl,--wrap=_ZN7rocksdb6crc32c6ExtendEjPKcm \
                -Wl,-Bstatic -lrocksdb -Wl,-Bdynamic -lgflags -lsnappy -lz -lbz2 -llz4 -lzstd \
                -lstdc++
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(ROCKSDB_LIBS) -lm -lpthread

WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Werror
CFLAGS ?= $(OPT)
ALL_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/mpi/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The dashboard's files, embedded into the library as a generated C table (sg_assets).
ASSETS := $(sort $(wildcard src/serving/assets/*))
LIB_OBJ += $(BUILD)/gen/sg_assets_data.o
LIB := $(BUILD)/libstreamguard.a
BIN := $(BUILD)/streamguard

# The MPI batch driver: a separate binary (build/streamguard-mpi) compiled with mpicc from
# src/mpi + the same library, so the main binary never needs MPI. Built when mpicc exists;
# `make test` installs Open MPI (scripts/deps.sh) and its e2e test requires the binary.
MPICC ?= mpicc
HAVE_MPI := $(shell command -v $(MPICC) >/dev/null 2>&1 && echo 1)
MPI_SRC := $(sort $(wildcard src/mpi/*.c))
MPI_OBJ := $(MPI_SRC:%.c=$(BUILD)/%.o)
MPI_BIN := $(BUILD)/streamguard-mpi
MPI_TEST := $(BUILD)/tests/mpi/test_mpi_prims
ifeq ($(HAVE_MPI),1)
MPI_ALL := $(MPI_BIN) $(MPI_TEST)
endif

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
COMP_SRC := $(sort $(wildcard tests/component/test_*.c))
TEST_BINS := $(UNIT_SRC:%.c=$(BUILD)/%) $(COMP_SRC:%.c=$(BUILD)/%)
# Test helpers (programs the e2e scripts drive, e.g. tests/helpers/pq_gen.c).
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(HELPER_SRC:%.c=$(BUILD)/%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRC:%.c=$(BUILD)/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:%.c=build-fuzz/%)
FUZZ_SECONDS ?= 20

.PHONY: all deps test check e2e demo fuzz fuzz-smoke bench clean format
all: $(BIN) $(TEST_BINS) $(HELPER_BINS) $(BENCH_BINS) $(MPI_ALL)

deps:
	@bash scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/sg_assets_data.c: $(ASSETS) scripts/embed_assets.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_assets.sh $(ASSETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sg_assets_data.o: $(BUILD)/gen/sg_assets_data.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

$(BUILD)/src/mpi/%.o: src/mpi/%.c
	@mkdir -p $(dir $@)
	OMPI_CC=$(CC) $(MPICC) $(ALL_CFLAGS) -c $< -o $@

$(MPI_BIN): $(MPI_OBJ) $(LIB)
	OMPI_CC=$(CC) $(MPICC) $(ALL_LDFLAGS) -o $@ $(MPI_OBJ) $(LIB) $(PKG_LIBS)

# MPI collective primitives' test (run under mpirun by tests/e2e/mpi.sh).
$(MPI_TEST): tests/mpi/test_mpi_prims.c $(filter-out %/main.o,$(MPI_OBJ)) $(LIB)
	@mkdir -p $(dir $@)
	OMPI_CC=$(CC) $(MPICC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(filter-out %/main.o,$(MPI_OBJ)) $(LIB) $(PKG_LIBS)

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

# libFuzzer targets: clang only, own build dir; the library is rebuilt with coverage
# instrumentation (fuzzer-no-link) once and shared by every target.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g $(WARN) -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB := build-fuzz/libstreamguard.a
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/%.o)
build-fuzz/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@
$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/tests/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

# check: the test suite against $(BUILD) (unit, component, end to end).
check: all
	@STREAMGUARD_BUILD=$(BUILD) bash tests/run.sh

# fuzz-smoke: every fuzz target for a few seconds, seeded from its corpus (part of `make test`).
fuzz-smoke: $(FUZZ_BINS)
	@STREAMGUARD_FUZZ_SECONDS=5 bash tests/fuzz/run.sh $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@STREAMGUARD_FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_BINS)

# test: what .ci/run calls. Installs, builds, runs everything, then again under ASan+UBSan.
test: deps
	$(MAKE) all
	$(MAKE) check
	$(MAKE) fuzz-smoke
	$(MAKE) SAN=1 all
	$(MAKE) SAN=1 check

demo: deps all
	$(BIN) demo $(DEMO_ARGS)

bench: all
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

format:
	clang-format -i $$(find src tests bench -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz

# test, helper and bench programs too: a change to a test's own header (e.g.
# tests/component/stream_fixture.h) rebuilds the tests that include it
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MPI_OBJ:.o=.d) $(wildcard build-fuzz/src/*/*.d) \
	$(TEST_BINS:=.d) $(HELPER_BINS:=.d) $(BENCH_BINS:=.d)
