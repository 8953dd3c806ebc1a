# libresilience: pure algorithms (backoff, breaker, classification, DLQ records).
RS_SRCS := $(wildcard resilience/src/*.c)
RS_LIB  := $(LIB)/libresilience.a
$(RS_LIB): $(call objs,$(RS_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
