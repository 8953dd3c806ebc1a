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

.PHONY: check check-asan check-tsan check-valgrind

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
