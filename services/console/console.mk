# saga-console (services/console): the operators' page and its API. Links the
# sidecar's archive for its Kafka client settings (KAFKA_*, kafkaconf.h).
$(eval $(call program,saga-console,services/console))
$(BIN)/saga-console: $(sidecar_LIB)
# the sidecar's archive uses libsvc: libsvc and libresilience again after it
$(BIN)/saga-console: LDLIBS := $(SVC_LIB) $(RS_LIB) $(LDLIBS)
