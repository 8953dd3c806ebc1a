# libFuzzer harnesses for the parsers of untrusted input (tests/fuzz/README.md).
# make fuzz-build               build/fuzz/<target>, clang + ASan + UBSan
# make fuzz FUZZ_SECONDS=30     every target for that long over a copy of its
#                               checked-in corpus; fails if any target crashes
#                               (-j runs the targets in parallel)
# make fuzz-<target>            one target (same FUZZ_SECONDS)

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build/fuzz
FUZZ_OBJ     := $(FUZZ_DIR)/obj
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(HARDEN) $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link -MMD -MP \
                -I. -Iservices/common/include -Iresilience/include -I$(MHD_DIR)/include \
                -include services/common/include/svc/banned.h \
                $(shell mysql_config --include 2>/dev/null)

# fuzz_srcs_<target>: the project sources the harness tests/fuzz/fuzz_<target>.c
# needs; fuzz_libs_<target>: its libraries when not just libmicrohttpd (the
# project's, MHD_LIB), libjwt and jansson.
FUZZ_COMMON := services/common/src
FUZZ_TARGETS := auth event http_route http_json order_request notif_request inventory_put \
                delivery gateway_config promtext json json_load outbox_pack egress_batch
# what svc_http_reply_problem() needs: harnesses check the replies they lead to
FUZZ_HTTP := $(FUZZ_COMMON)/http.c $(FUZZ_COMMON)/buf.c $(FUZZ_COMMON)/log.c \
             $(FUZZ_COMMON)/error.c $(FUZZ_COMMON)/validate.c $(FUZZ_COMMON)/auth.c \
             $(FUZZ_COMMON)/config.c $(FUZZ_COMMON)/utf8.c $(FUZZ_COMMON)/prom.c \
             $(FUZZ_COMMON)/clock.c
# event.c loads events with svc_json_loadb (json.c, which needs buf.c and utf8.c)
fuzz_srcs_event          := $(FUZZ_COMMON)/event.c $(FUZZ_COMMON)/validate.c \
                            $(FUZZ_COMMON)/money.c services/inventory/reserve.c \
                            services/notification/format.c $(FUZZ_COMMON)/json.c \
                            $(FUZZ_COMMON)/buf.c $(FUZZ_COMMON)/utf8.c
fuzz_srcs_http_route     := $(FUZZ_HTTP)
fuzz_srcs_auth           := $(FUZZ_HTTP)
# svc_http_parse_json sits in service.c, which reaches all of libsvc
fuzz_srcs_http_json      := $(SVC_SRCS) $(RS_SRCS)
fuzz_libs_http_json      := $(LDLIBS)
fuzz_srcs_order_request  := services/order/request.c $(FUZZ_HTTP)
fuzz_srcs_notif_request  := services/notification/request.c $(FUZZ_COMMON)/event.c \
                            $(FUZZ_COMMON)/json.c $(FUZZ_HTTP)
fuzz_srcs_inventory_put  := services/inventory/request.c $(FUZZ_HTTP)
fuzz_srcs_delivery       := resilience/sidecar/delivery.c $(FUZZ_COMMON)/json.c \
                            $(FUZZ_COMMON)/buf.c $(FUZZ_COMMON)/utf8.c
fuzz_srcs_gateway_config := services/gateway-sim/rules.c $(FUZZ_HTTP)
fuzz_srcs_promtext       := services/console/promtext.c
fuzz_srcs_json           := $(FUZZ_COMMON)/json.c $(FUZZ_COMMON)/buf.c $(FUZZ_COMMON)/utf8.c
fuzz_srcs_json_load      := $(fuzz_srcs_json)
fuzz_srcs_outbox_pack    := $(FUZZ_COMMON)/outbox_pack.c $(FUZZ_COMMON)/buf.c
fuzz_srcs_egress_batch   := resilience/sidecar/egress.c resilience/sidecar/egress_batch.c \
                            $(SVC_SRCS) $(RS_SRCS)
fuzz_libs_egress_batch   := $(LDLIBS)

FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

$(FUZZ_OBJ)/%.o: %.c | $(MHD_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

define fuzz_target
$(FUZZ_DIR)/$(1): $(FUZZ_OBJ)/tests/fuzz/fuzz_$(1).o \
                  $$(patsubst %.c,$(FUZZ_OBJ)/%.o,$$(fuzz_srcs_$(1)))
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_SAN) $(HARDEN_LD) -fsanitize=fuzzer -pthread -o $$@ $$^ \
	        $$(or $$(fuzz_libs_$(1)),$(MHD_LIB) -ljwt -ljansson)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

.PHONY: fuzz-build fuzz $(addprefix fuzz-,$(FUZZ_TARGETS))
fuzz-build: $(FUZZ_BINS)
fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))

# Runs on a fresh copy of the corpus so the repository is never modified; the
# log and any crash input stay under build/fuzz. A crash input, once the bug is
# fixed, belongs in tests/fuzz/corpus/<target>/ as a regression seed.
$(addprefix fuzz-,$(FUZZ_TARGETS)): fuzz-%: $(FUZZ_DIR)/%
	@rm -rf $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$*
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$*
	@cp tests/fuzz/corpus/$*/* $(FUZZ_DIR)/corpus/$*/
	@if $(FUZZ_DIR)/$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$*/ \
	        $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) \
	        $(FUZZ_DIR)/corpus/$* >$(FUZZ_DIR)/$*.log 2>&1; then \
	    echo "fuzz $*: ok, $(FUZZ_SECONDS)s," \
	        "$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$*.log) runs," \
	        "$$(ls $(FUZZ_DIR)/corpus/$* | wc -l) corpus entries"; \
	else \
	    tail -n 60 $(FUZZ_DIR)/$*.log; \
	    echo "fuzz $*: FAILED; input in $(FUZZ_DIR)/artifacts/$*/, log $(FUZZ_DIR)/$*.log"; \
	    exit 1; \
	fi
