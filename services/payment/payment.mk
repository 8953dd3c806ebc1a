$(eval $(call program,payment-service,services/payment))
