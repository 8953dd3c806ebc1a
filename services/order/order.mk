$(eval $(call program,order-service,services/order))
