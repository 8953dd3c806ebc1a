# The tiers of checks over our C code, as curl and git have them (README, "Tests").
# make check      the unit tests under ASan+UBSan (make unit), TSan, then valgrind's
#                 memcheck; hermetic: installs nothing, starts no service
# make analyze    clang's static analyzer (scan-build) and cppcheck, both clean
# make coverage   gcov/lcov over the unit tests; line coverage per component,
#                 report in build/coverage/, floors in tests/coverage-floors
# make torture    every unit test with its Nth allocation failing, N = 1..all
#                 (scripts/torture.sh; TORTURE_STEP, TORTURE_MAX)
# analyze and coverage install their tools (make deps-checks); check expects
# valgrind present (make deps installs it too).

.PHONY: check check-asan check-tsan check-valgrind analyze analyze-scan-build \
        analyze-cppcheck coverage torture

check:
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-valgrind
check-asan: unit
check-tsan:
	$(MAKE) SAN=thread unit-tests
	TSAN_OPTIONS="halt_on_error=1 $${TSAN_OPTIONS:-}" UNIT_TEST_LABEL=tsan \
	  scripts/run-unit-tests.sh build/tsan/tests
# the plain build under memcheck: what ASan cannot see, such as overflows
# inside the shared libraries, which are not instrumented
VALGRIND ?= valgrind
VALGRIND_FLAGS := -q --error-exitcode=99 --leak-check=full \
                  --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes
check-valgrind:
	@command -v $(VALGRIND) >/dev/null || { echo "$(VALGRIND) missing: make deps-checks"; exit 1; }
	$(MAKE) SAN=0 unit-tests
	UNIT_TEST_WRAPPER="$(VALGRIND) $(VALGRIND_FLAGS)" UNIT_TEST_LABEL=valgrind \
	  UNIT_TEST_TIMEOUT=600 scripts/run-unit-tests.sh build/tests

# scan-build analyses what it sees compiled: a build of its own (build/analyze)
# so that every file is compiled again. The fuzz harnesses need clang's
# -fsanitize=fuzzer and gcc compiles for scan-build: cppcheck reads them.
ANALYZE_DIR := build/analyze
analyze: deps-checks
	$(MAKE) analyze-scan-build
	$(MAKE) analyze-cppcheck
analyze-scan-build:
	rm -rf $(ANALYZE_DIR)/obj $(ANALYZE_DIR)/scan-build
	scan-build --status-bugs -o $(ANALYZE_DIR)/scan-build --use-cc=$(CC) \
	  $(MAKE) BUILD=$(ANALYZE_DIR) all unit-tests
# warning, portability, performance (not style). Inline suppressions carry
# their reason beside them. duplicateAssignExpression is off: it flags the
# idiom "lo = hi = first element" and two settings given one value.
CPPCHECK_FLAGS := --quiet --std=c11 --enable=warning,portability,performance --inline-suppr \
                  --error-exitcode=1 -D_GNU_SOURCE -D__GNUC__ -I. -Iservices/common/include \
                  -Iresilience/include --include=services/common/include/svc/banned.h \
                  --suppress=missingIncludeSystem --suppress=duplicateAssignExpression \
                  --template='{file}:{line}: {severity}: {message} [{id}]'
analyze-cppcheck:
	@mkdir -p $(ANALYZE_DIR)/cppcheck
	cppcheck -j2 --cppcheck-build-dir=$(ANALYZE_DIR)/cppcheck $(CPPCHECK_FLAGS) \
	  $$(git ls-files '*.c')
	@echo "cppcheck: clean"

# gcov instrumentation (COV=1: build/cov, -Og so FORTIFY stays on), the unit
# tests, lcov; scripts/coverage.sh prints the figures and checks the floors.
coverage: deps-checks
	rm -rf build/coverage
	find build/cov -name '*.gcda' -delete 2>/dev/null || true
	$(MAKE) COV=1 unit-tests
	UNIT_TEST_LABEL=coverage scripts/run-unit-tests.sh build/cov/tests
	scripts/coverage.sh build/cov build/coverage tests/coverage-floors

# Allocation-failure torture: the ASan+UBSan unit tests relinked so that every
# malloc, calloc, realloc and strdup of the code under test (not of the test
# itself, nor of the shared libraries) goes through tests/torture/alloc_fail.c.
# The full run takes long on two cores: ~23 min for all the tests but one
# (2,353 runs), and test_order_price_cache alone allocates ~100,000 times
# (0.1-0.2 s a run: 3 to 5 hours). TORTURE_MAX=50 (CI) takes a few minutes.
TORTURE_SYMS  := malloc calloc realloc strdup
TORTURE_DIR    = $(BUILD)/torture
TORTURE_TESTS  = $(patsubst $(BUILD)/tests/%,$(TORTURE_DIR)/%,$(UNIT_TESTS))
# the test's own calls keep the real functions
$(TORTURE_DIR)/%.o: $(OBJ)/tests/unit/%.o
	@mkdir -p $(dir $@)
	objcopy $(foreach f,$(TORTURE_SYMS),--redefine-sym $(f)=__real_$(f)) $< $@
# the shared fakes (tests/unit/fake_*.c) are the test's side too
TORTURE_FAKES = $(TORTURE_DIR)/libunitfakes.a
$(TORTURE_DIR)/fakes/%.o: $(OBJ)/tests/unit/%.o
	@mkdir -p $(dir $@)
	objcopy $(foreach f,$(TORTURE_SYMS),--redefine-sym $(f)=__real_$(f)) $< $@
$(TORTURE_FAKES): $(patsubst tests/unit/%.c,$(TORTURE_DIR)/fakes/%.o,$(UNIT_FAKES_SRCS))
	rm -f $@ && $(AR) rcs $@ $^
$(TORTURE_DIR)/%: $(TORTURE_DIR)/%.o $(OBJ)/tests/torture/alloc_fail.o $(TORTURE_FAKES) \
                  $(filter-out $(UNIT_FAKES_LIB),$(UNIT_ARCHIVES))
	$(CC) $(LDFLAGS) $(foreach f,$(TORTURE_SYMS),-Wl,--wrap=$(f)) -o $@ $^ -lcmocka $(LDLIBS)
$(filter $(TORTURE_DIR)/test_chaos_%,$(TORTURE_TESTS)): $(chaos_LIB)
$(filter $(TORTURE_DIR)/test_chaos_%,$(TORTURE_TESTS)): \
        LDLIBS := $(chaos_LIB) $(SVC_LIB) $(RS_LIB) $(LDLIBS)
.SECONDARY: $(addsuffix .o,$(TORTURE_TESTS)) $(OBJ)/tests/torture/alloc_fail.o \
            $(patsubst tests/unit/%.c,$(TORTURE_DIR)/fakes/%.o,$(UNIT_FAKES_SRCS))
.PHONY: torture-tests
torture-tests: $(TORTURE_TESTS)
torture:
	$(MAKE) SAN=1 torture-tests
	scripts/torture.sh build/san/torture
