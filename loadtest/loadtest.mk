# Load-test tools (docs/benchmarks.md, scripts/bench.sh):
#   loadgen        open-model HTTP order generator (loadtest/loadgen)
#   kafka-ceiling  raw Kafka produce->consume throughput of this machine
#   db-ceiling     raw MariaDB single-row write transactions/s
#   lagmon         consumer-group lag, one JSON line per second
#   auth-cost      what verifying a bearer token costs a request (make bench-auth)
#   obs-cost       what metrics and log lines cost the hot path (make bench-obs)
#   delivery-cost  what one event costs the sidecar and the service on the
#                  /internal/events hop, no stack needed (make bench-delivery)
#   inbox-prune.sh what deleting old inbox claims costs, on the stack of
#                  `make run` (make bench-inbox-prune)
# The ceiling tools and lagmon share loadgen's archive (clock, percentiles).
$(eval $(call program,loadgen,loadtest/loadgen))
$(eval $(call program,kafka-ceiling,loadtest/kafka-ceiling))
$(eval $(call program,db-ceiling,loadtest/db-ceiling))
$(eval $(call program,lagmon,loadtest/lagmon))
$(eval $(call program,auth-cost,loadtest/auth-cost))
$(eval $(call program,obs-cost,loadtest/obs-cost))
$(eval $(call program,delivery-cost,loadtest/delivery-cost))

.PHONY: bench-auth bench-obs bench-delivery bench-inbox-prune
bench-inbox-prune:
	loadtest/inbox-prune.sh
bench-delivery: $(BIN)/delivery-cost
	@mkdir -p build/bench
	$(BIN)/delivery-cost | tee build/bench/delivery-cost.txt
bench-obs: $(BIN)/obs-cost
	@mkdir -p build/bench
	$(BIN)/obs-cost | tee build/bench/obs-cost.txt
bench-auth: $(BIN)/auth-cost
	@mkdir -p build/bench
	$(BIN)/auth-cost --seconds 3 --out build/bench/auth-cost.txt
$(BIN)/kafka-ceiling $(BIN)/db-ceiling $(BIN)/lagmon $(BIN)/obs-cost: $(loadgen_LIB)
# loadgen's archive uses libsvc's clock: libsvc again after it.
$(BIN)/kafka-ceiling $(BIN)/db-ceiling $(BIN)/obs-cost: LDLIBS := $(SVC_LIB) $(LDLIBS)
# lagmon reads watermarks the sidecar's way (sidecar/kafka.h): its archive,
# then libsvc and libresilience again after it
$(BIN)/lagmon: $(sidecar_LIB)
$(BIN)/lagmon: LDLIBS := $(SVC_LIB) $(RS_LIB) $(LDLIBS)
# the sidecar's archive, then libsvc again after it
$(BIN)/delivery-cost: $(sidecar_LIB)
$(BIN)/delivery-cost: LDLIBS := $(SVC_LIB) $(LDLIBS)
