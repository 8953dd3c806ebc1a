# saga-token: bearer tokens for the local stack (make token USER=... ROLE=...).
$(eval $(call program,saga-token,tools/token))

# USER defaults to your login name; ROLE to customer. JWT_SECRET defaults to
# the local stack's (RUN_DIR/secrets/jwt, made by scripts/stack.sh up).
ROLE ?= customer
.PHONY: token
token: $(BIN)/saga-token
	@JWT_SECRET="$${JWT_SECRET:-$$(cat $${RUN_DIR:-run}/secrets/jwt 2>/dev/null)}" \
		$(BIN)/saga-token --sub "$(USER)" $(foreach r,$(subst $(comma), ,$(ROLE)),--role $(r))
