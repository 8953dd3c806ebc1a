# Unit tests: tests/unit/test_<module>.c -> $(BUILD)/tests/test_<module>, linked
# with cmocka, the test doubles, every service archive and the shared
# libraries (archives pull in only what a test uses).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# The fakes the tests share (tests/unit/fake_*.{c,h}: a database behind
# struct svc_db_ops, a Kafka broker behind the sidecar's struct sc_kafka_ops,
# a Redis behind struct svc_redis_ops, an HTTP server on 127.0.0.1), in
# an archive of their own, first: a test links the ones it uses.
UNIT_FAKES_SRCS := $(wildcard tests/unit/fake_*.c)
UNIT_FAKES_LIB  := $(LIB)/libunitfakes.a
$(UNIT_FAKES_LIB): $(call objs,$(UNIT_FAKES_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
UNIT_ARCHIVES = $(UNIT_FAKES_LIB) $(saga-console_LIB) $(order-service_LIB) $(inventory-service_LIB) $(payment-service_LIB) \
                $(notification-service_LIB) $(sidecar_LIB) $(gateway-sim_LIB) $(seed_LIB) \
                $(SVC_LIB) $(RS_LIB)
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(UNIT_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)
.PHONY: unit-tests
unit-tests: $(UNIT_TESTS)

# the test objects are intermediate files of the pattern rule above: keep them
# between runs instead of deleting and rebuilding them every time
.SECONDARY: $(patsubst tests/unit/%.c,$(OBJ)/tests/unit/%.o,$(UNIT_SRCS))
