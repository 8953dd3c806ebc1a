# saga-smoke: the deployment's smoke test (helm test; also in the loadgen
# image): an order that must confirm and one the gateway declines.
$(eval $(call program,saga-smoke,tests/smoke))
