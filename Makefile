# One non-recursive Makefile. Each folder contributes a fragment (*.mk).
# make            build everything (build/bin, build/lib)
# make SAN=1      the same with ASan+UBSan, under build/san
# make run        install what is missing, start the whole stack (scripts/stack.sh)
# make logs ORDER=<id>   one order's log lines from every process, in time order
# make test       unit tests (sanitized) + end-to-end, security and fault-injection tests
#                 against a stack of their own (run/test, every port + 100: TEST_STACK_ENV);
#                 make test-stop stops it. The stack of `make run` is left alone.
# make check      unit tests under ASan+UBSan, TSan, valgrind (tests/checks.mk: also
#                 analyze, coverage, torture)
# make k8s-up k8s-test k8s-down   the same system on a kind cluster (k8s/k8s.mk)

CC       ?= cc
# SAN=1: ASan+UBSan under build/san; SAN=thread: TSan under build/tsan;
# COV=1: gcov instrumentation under build/cov (make coverage)
SAN      ?= 0
COV      ?= 0
ifeq ($(SAN),1)
BUILD    := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),thread)
BUILD    := build/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else ifeq ($(COV),1)
BUILD    := build/cov
SANFLAGS := --coverage
CFLAGS   ?= -Og -g
else
BUILD    := build
SANFLAGS :=
endif

# libmicrohttpd: Debian's 0.9.75 with the project's patches, static, built under .deps by
# scripts/build-mhd.sh (third_party/libmicrohttpd/README.md); its directory names its version
MHD_DIR  := $(shell scripts/build-mhd.sh dir)
MHD_LIB  := $(MHD_DIR)/lib/libmicrohttpd.a

WARN     := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wconversion -Wvla \
            -Wshadow -Wformat=2
# on every build: FORTIFY 3 (gcc 12+, needs optimisation: -O0 gets none), the
# strong stack protector, PIE, full RELRO
CFLAGS   ?= -O2 -g
HARDEN   := $(if $(filter -O0,$(CFLAGS)),,-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3) \
            -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(EXTRA_WARN) $(HARDEN) $(SANFLAGS) -MMD -MP \
            -I. -Iservices/common/include -Iresilience/include -I$(MHD_DIR)/include \
            -include services/common/include/svc/banned.h \
            $(shell mysql_config --include 2>/dev/null)
LDFLAGS  += -pthread $(HARDEN_LD) $(SANFLAGS)
LIBS_MYSQL := $(shell mysql_config --libs 2>/dev/null || echo -lmariadb)
LDLIBS   := $(MHD_LIB) -ljwt -ljansson -lhiredis -lcurl -lrdkafka $(LIBS_MYSQL) -lm

BIN := $(BUILD)/bin
LIB := $(BUILD)/lib
OBJ := $(BUILD)/obj

ALL_BINS :=
UNIT_TESTS :=

# $(call objs,srcs) -> object paths under $(OBJ)
objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

# $(call program,NAME,DIR): DIR/*.c except main.c -> $(LIB)/libNAME.a (linked by
# unit tests too), DIR/main.c + that archive + the shared libraries -> $(BIN)/NAME
comma := ,

define program
$(1)_SRCS := $$(filter-out $(2)/main.c,$$(wildcard $(2)/*.c))
$(1)_LIB  := $$(LIB)/lib$(1).a
$$($(1)_LIB): $$(call objs,$$($(1)_SRCS))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $$(AR) rcs $$@ $$^
$$(BIN)/$(1): $$(call objs,$(2)/main.c) $$($(1)_LIB) $$(SVC_LIB) $$(RS_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
ALL_BINS += $$(BIN)/$(1)
endef

include resilience/resilience.mk
include services/common/common.mk
include resilience/sidecar/sidecar.mk
include services/order/order.mk
include services/inventory/inventory.mk
include services/payment/payment.mk
include services/notification/notification.mk
include services/gateway-sim/gateway-sim.mk
include services/console/console.mk
include tests/data/seed.mk
include loadtest/loadtest.mk
include tests/smoke/smoke.mk
include tools/token/token.mk
include tests/unit/unit.mk
include chaos/chaos.mk
include tests/fuzz/fuzz.mk
include tests/checks.mk
include k8s/k8s.mk

.DEFAULT_GOAL := all
.PHONY: all clean run stop status logs test test-stop unit e2e security faults deps \
        deps-checks format format-check
all: $(ALL_BINS)

# the patched microhttpd.h comes with the library
$(OBJ)/%.o: %.c | $(MHD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(MHD_LIB):
	scripts/build-mhd.sh

deps:
	scripts/install-deps.sh

# only the tools of the checks (valgrind, cppcheck, scan-build, lcov)
deps-checks:
	scripts/install-deps.sh checks

run: deps
	$(MAKE) all
	scripts/stack.sh up

stop:
	scripts/stack.sh down

status:
	scripts/stack.sh status

# one order's log lines from every process, in time order (scripts/order-logs.py)
logs:
	@test -n "$(ORDER)" || { echo "usage: make logs ORDER=<orderId>" >&2; exit 2; }
	@scripts/order-logs.py "$(ORDER)"

# unit and check are hermetic: no package installs, no services started
unit:
	$(MAKE) SAN=1 unit-tests
	scripts/run-unit-tests.sh build/san/tests

# The stack the tests start, restart and write into: apart from the one of
# `make run` (its own RUN_DIR, every port + 100; the variables
# scripts/lib/common.sh, scripts/stack.sh and tests/e2e/stack.py read).
# TEST_STACK_ENV= runs the tests against the stack of `make run` instead.
TEST_STACK_ENV ?= RUN_DIR=run/test MYSQL_PORT=3406 REDIS_PORT=6479 KAFKA_PORT=9192 \
                  KAFKA_CONTROLLER_PORT=9193 ORDER_PORT=8181 PAYMENT_PORT=8182 \
                  INVENTORY_PORT=8183 NOTIFICATION_PORT=8184 GATEWAY_PORT=8189 \
                  CONSOLE_PORT=8190

e2e: deps
	scripts/install-deps.sh browser
	$(MAKE) SAN=1 all
	$(TEST_STACK_ENV) BIN_DIR=build/san/bin scripts/stack.sh up
	$(TEST_STACK_ENV) python3 tests/e2e/run.py

# security (tests/security): refusals of what attackers and careless clients
# try, against the same sanitized stack; no state or money may change
security: deps
	$(MAKE) SAN=1 all
	$(TEST_STACK_ENV) BIN_DIR=build/san/bin scripts/stack.sh up
	$(TEST_STACK_ENV) BIN_DIR=build/san/bin python3 tests/security/run.py

# fault injection (tests/faults): the stack (sanitized) with short saga
# deadlines; an order service already running with others is restarted with
# these for the run and with its former ones after it
FAULT_DEADLINE_MS ?= 4000
FAULT_ENV = SAGA_TIMEOUT_INVENTORY_MS=$(FAULT_DEADLINE_MS) \
            SAGA_TIMEOUT_PAYMENT_MS=$(FAULT_DEADLINE_MS) \
            SAGA_TIMEOUT_COMPENSATION_MS=$(FAULT_DEADLINE_MS)
faults: deps
	$(MAKE) SAN=1 all
	$(TEST_STACK_ENV) $(FAULT_ENV) BIN_DIR=build/san/bin scripts/stack.sh up
	$(TEST_STACK_ENV) $(FAULT_ENV) python3 tests/faults/run.py

# one after the other even under -j: they build into build/san and share the stack
# installs what is missing first (unit itself never does)
test: deps
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) security
	$(MAKE) faults

test-stop:
	$(TEST_STACK_ENV) scripts/stack.sh down

CLANG_FORMAT ?= clang-format
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(CLANG_FORMAT) -i $(SOURCES)
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(SOURCES)

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)

# Test data (issue: 10 M products, 1 M users). Needs the stack up (make run).
PRODUCTS ?= 10000000
USERS    ?= 1000000
SEED     ?= 42
.PHONY: seed
seed: $(BIN)/seed
	DB_SOCKET=$${DB_SOCKET:-$(CURDIR)/run/mariadb/mysqld.sock} \
	  $(BIN)/seed --products $(PRODUCTS) --users $(USERS) --seed $(SEED)

# seed-check: small-scale correctness of the generator (counts, determinism,
# an order on seeded data); seed-bench: the full-size timing and lookups.
# SEED_STACK_ENV: which stack (empty: the one of `make run`; CI passes
# 'SEED_STACK_ENV=$(TEST_STACK_ENV)' for the one `make test` left running).
.PHONY: seed-check seed-bench
SEED_STACK_ENV ?=
seed-check: $(BIN)/seed
	$(SEED_STACK_ENV) SEED_BIN=$(BIN)/seed python3 tests/data/check_seed.py
seed-bench: $(BIN)/seed
	SEED_BIN=$(BIN)/seed PRODUCTS=$(PRODUCTS) USERS=$(USERS) SEED=$(SEED) \
	  python3 tests/data/bench_seed.py

# Load benchmark (docs/benchmarks.md): the whole stack in a private network
# namespace, RATE (1000) orders/s for DURATION (300) s, report under run/bench/.
# BENCH_RATES="100 500 1000" for a series; BENCH_SMOKE=1 for the CI smoke.
.PHONY: bench bench-smoke profile
bench: deps
	$(MAKE) all
	scripts/bench.sh
bench-smoke: deps
	$(MAKE) all
	BENCH_SMOKE=1 scripts/bench.sh
# what one order costs (docs/benchmarks.md): PROFILE_ORDERS (20000) orders at
# RATE (400)/s; CPU ms per process, MariaDB statements, commits and rows,
# Kafka messages and bytes, system calls; run/bench/<time>/profile.md (and, with
# PROFILE_PERF=1, perf.md: where the CPU goes by process and symbol)
profile: deps
	$(MAKE) all
	BENCH_PROFILE=1 scripts/bench.sh
