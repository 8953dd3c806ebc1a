$(eval $(call program,notification-service,services/notification))
