$(eval $(call program,gateway-sim,services/gateway-sim))
