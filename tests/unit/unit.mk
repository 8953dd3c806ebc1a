# Unit tests: tests/unit/test_<module>.c -> $(BUILD)/tests/test_<module>, linked
# with cmocka, the test doubles (UNIT_FAKES: tests/unit/fake_*.c, every test
# may use them), every service archive and the shared libraries (archives
# pull in only what a test uses).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_FAKES := $(call objs,$(wildcard tests/unit/fake_*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_ARCHIVES = $(saga-console_LIB) $(order-service_LIB) $(inventory-service_LIB) $(payment-service_LIB) \
                $(notification-service_LIB) $(sidecar_LIB) $(gateway-sim_LIB) $(seed_LIB) \
                $(SVC_LIB) $(RS_LIB)
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(UNIT_FAKES) $(UNIT_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)
.PHONY: unit-tests
unit-tests: $(UNIT_TESTS)

# the test objects are intermediate files of the pattern rule above: keep them
# between runs instead of deleting and rebuilding them every time
.SECONDARY: $(patsubst tests/unit/%.c,$(OBJ)/tests/unit/%.o,$(UNIT_SRCS))
