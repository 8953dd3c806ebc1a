$(eval $(call program,seed,tests/data))
