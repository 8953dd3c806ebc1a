# chaos: the chaos runner (docs/chaos.md). build/bin/chaos runs in the cluster
# as a Job (its image: scripts/images.sh) and on this side writes the report;
# `make chaos` (k8s/k8s.mk) runs the scenarios of chaos/scenarios/.
$(eval $(call program,chaos,chaos))

# its image carries only the libraries it uses
$(BIN)/chaos: LDFLAGS += -Wl,--as-needed

# the unit tests of chaos/ (tests/unit/test_chaos_*.c) link its archive too,
# ahead of the shared ones it needs
CHAOS_UNIT_TESTS := $(filter $(BUILD)/tests/test_chaos_%,$(UNIT_TESTS))
$(CHAOS_UNIT_TESTS): $(chaos_LIB)
$(CHAOS_UNIT_TESTS): LDLIBS := $(chaos_LIB) $(SVC_LIB) $(RS_LIB) $(LDLIBS)

.PHONY: chaos-check
chaos-check: $(BIN)/chaos
	$(BIN)/chaos check chaos/scenarios/*
