$(eval $(call program,sidecar,resilience/sidecar))
