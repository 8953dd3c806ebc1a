# libsvc: the helper library every service and the sidecar link (HTTP, JSON,
# MySQL, Redis, events, outbox/inbox, service bootstrap).
SVC_SRCS := $(wildcard services/common/src/*.c)
SVC_LIB  := $(LIB)/libsvc.a
$(SVC_LIB): $(call objs,$(SVC_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
