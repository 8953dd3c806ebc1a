$(eval $(call program,inventory-service,services/inventory))
