/*
 * The "smtp" channel: mails the notification with libcurl's SMTP client. The
 * message is built in memory (mail.c) and handed to curl through
 * CURLOPT_READFUNCTION; curl does the SMTP dialogue and the dot-stuffing.
 */
#include "services/notification/channel.h"

#include <curl/curl.h>
#include <time.h>

#include "services/notification/mail.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

struct smtp {
	char *url;      /* SMTP_URL: smtp://host:port or smtps://host:port */
	char *from;     /* SMTP_FROM */
	char *user;     /* SMTP_USER, NULL when unset */
	char *password; /* SMTP_PASSWORD */
	bool starttls;  /* SMTP_STARTTLS: require STARTTLS on smtp:// */
	long timeout_ms;
};

/* The message being uploaded. */
struct upload {
	const char *data;
	size_t len;
	size_t pos;
};

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *userp)
{
	struct upload *up = userp;
	size_t n = size * nmemb;

	if (n > up->len - up->pos)
		n = up->len - up->pos;
	memcpy(dst, up->data + up->pos, n);
	up->pos += n;
	return n;
}

int notif_smtp_classify(int curl_code, long reply)
{
	if (curl_code == CURLE_OK && (reply == 0 || (reply >= 200 && reply < 400)))
		return 0;
	if (reply >= 500)
		return SVC_EPERMANENT;
	if (reply >= 400)
		return SVC_ETRANSIENT;
	switch (curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_AGAIN:
		return SVC_ETRANSIENT;
	default:
		return SVC_EPERMANENT;
	}
}

static int smtp_send(void *ctx, const struct notif_message *msg, char *err, size_t errlen)
{
	struct smtp *s = ctx;
	struct notif_mail mail = {.from = s->from,
	                          .to = msg->recipient,
	                          .subject = msg->subject,
	                          .body = msg->body,
	                          .message_id = msg->notification_id,
	                          .date = time(NULL)};
	struct svc_buf text;
	struct upload up = {0};
	struct curl_slist *rcpt = NULL;
	CURL *curl = NULL;
	char curl_err[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	long reply = 0;
	int rc;

	svc_buf_init(&text);
	rc = notif_mail_build(&text, &mail);
	if (rc != 0) {
		snprintf(err, errlen, "cannot mail to \"%.100s\": %s", msg->recipient,
		         rc == SVC_ENOMEM ? "out of memory" : "invalid address or header");
		rc = rc == SVC_ENOMEM ? SVC_ETRANSIENT : SVC_EPERMANENT;
		goto out;
	}
	up.data = svc_buf_str(&text);
	up.len = text.len;
	curl = curl_easy_init();
	rcpt = curl_slist_append(NULL, msg->recipient);
	if (!curl || !rcpt) {
		snprintf(err, errlen, "smtp: out of memory");
		rc = SVC_ETRANSIENT;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, s->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	if (s->starttls)
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (s->user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
	rc = notif_smtp_classify((int)cc, reply);
	if (rc != 0)
		snprintf(err, errlen, "smtp: %s (reply %ld)",
		         curl_err[0] ? curl_err : curl_easy_strerror(cc), reply);
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	svc_buf_release(&text);
	return rc;
}

static void smtp_free(void *ctx)
{
	struct smtp *s = ctx;

	if (!s)
		return;
	free(s->url);
	free(s->from);
	free(s->user);
	free(s->password);
	free(s);
}

/* strdup of an environment value, NULL when unset or empty. */
static char *env_dup(const char *name, bool *oom)
{
	const char *v = svc_env_str(name, NULL);
	char *copy;

	if (!v)
		return NULL;
	copy = strdup(v);
	if (!copy)
		*oom = true;
	return copy;
}

struct notif_channel *notif_channel_smtp_new(void)
{
	struct notif_channel *ch = NULL;
	struct smtp *s = calloc(1, sizeof(*s));
	bool oom = false;

	if (!s)
		return NULL;
	s->url = env_dup("SMTP_URL", &oom);
	s->from = env_dup("SMTP_FROM", &oom);
	s->user = env_dup("SMTP_USER", &oom);
	s->password = env_dup("SMTP_PASSWORD", &oom);
	s->starttls = svc_env_bool("SMTP_STARTTLS", false);
	s->timeout_ms = svc_env_long("SMTP_TIMEOUT_MS", 10000, 100, 300000);
	if (oom || !s->url)
		goto fail;
	if (!s->from || !notif_mail_address_valid(s->from)) {
		svc_error("SMTP_URL is set but SMTP_FROM is missing or not an address: smtp "
		          "channel off");
		goto fail;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		goto fail;
	ch->name = "smtp";
	ch->send = smtp_send;
	ch->ctx_free = smtp_free;
	ch->ctx = s;
	return ch;
fail:
	smtp_free(s);
	return NULL;
}
