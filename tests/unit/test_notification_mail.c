/* The SMTP channel's pure parts: message building, addresses, classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <string.h>

#include "services/notification/channel.h"
#include "services/notification/mail.h"
#include "svc/error.h"

static void test_base64_matches_rfc4648_vectors(void **state)
{
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct svc_buf b;

		svc_buf_init(&b);
		assert_int_equal(notif_base64_add(&b, in[i], strlen(in[i]), false), 0);
		assert_string_equal(svc_buf_str(&b), out[i]);
		svc_buf_release(&b);
	}
}

static void test_mail_has_headers_crlf_and_base64_body(void **state)
{
	struct notif_mail m = {.from = "shop@example.com",
	                       .to = "u-1@customers.invalid",
	                       .subject = "Order 1 confirmed",
	                       .body = "Your order 1 is confirmed: total 39.98 USD",
	                       .message_id = "0190f1c2-7a3b-7cde-8f01-23456789abcd",
	                       .date = 0};
	struct svc_buf b;
	const char *s;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(notif_mail_build(&b, &m), 0);
	s = svc_buf_str(&b);
	assert_non_null(strstr(s, "From: <shop@example.com>\r\n"));
	assert_non_null(strstr(s, "To: <u-1@customers.invalid>\r\n"));
	assert_non_null(strstr(s, "Subject: Order 1 confirmed\r\n"));
	assert_non_null(strstr(s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	assert_non_null(
	        strstr(s, "Message-ID: <0190f1c2-7a3b-7cde-8f01-23456789abcd@example.com>"));
	assert_non_null(strstr(s, "Content-Transfer-Encoding: base64\r\n\r\nWW91ciBvcmRlciAx"));
	/* no bare LF anywhere */
	for (const char *p = s; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > s && p[-1] == '\r');
	svc_buf_release(&b);
}

static void test_non_ascii_subject_is_encoded_word(void **state)
{
	struct notif_mail m = {.from = "a@b.c",
	                       .to = "d@e.f",
	                       .subject = "Bestellung \xc3\xbc",
	                       .body = "x",
	                       .message_id = "id",
	                       .date = 0};
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(notif_mail_build(&b, &m), 0);
	assert_non_null(strstr(svc_buf_str(&b), "Subject: =?UTF-8?B?QmVzdGVsbHVuZyDDvA==?=\r\n"));
	svc_buf_release(&b);
}

static void test_header_injection_and_bad_addresses_are_refused(void **state)
{
	struct notif_mail m = {.from = "a@b.c",
	                       .to = "d@e.f",
	                       .subject = "x\r\nBcc: evil@x.y",
	                       .body = "x",
	                       .message_id = "id",
	                       .date = 0};
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(notif_mail_build(&b, &m), SVC_EPERMANENT);
	m.subject = "ok";
	m.to = "d@e.f>\r\nBcc: <evil@x.y";
	assert_int_equal(notif_mail_build(&b, &m), SVC_EPERMANENT);
	svc_buf_release(&b);
	assert_true(notif_mail_address_valid("u-1@customers.invalid"));
	assert_false(notif_mail_address_valid("no-at-sign"));
	assert_false(notif_mail_address_valid("@x.y"));
	assert_false(notif_mail_address_valid("x@"));
	assert_false(notif_mail_address_valid("a@b@c"));
	assert_false(notif_mail_address_valid("a b@c.d"));
	assert_false(notif_mail_address_valid("+15551234"));
}

static void test_smtp_outcomes_are_classified(void **state)
{
	(void)state;
	assert_int_equal(notif_smtp_classify(CURLE_OK, 250), 0);
	assert_int_equal(notif_smtp_classify(CURLE_OK, 0), 0);
	assert_int_equal(notif_smtp_classify(CURLE_COULDNT_CONNECT, 0), SVC_ETRANSIENT);
	assert_int_equal(notif_smtp_classify(CURLE_OPERATION_TIMEDOUT, 0), SVC_ETRANSIENT);
	assert_int_equal(notif_smtp_classify(CURLE_SEND_ERROR, 421), SVC_ETRANSIENT);
	assert_int_equal(notif_smtp_classify(CURLE_SEND_ERROR, 450), SVC_ETRANSIENT);
	assert_int_equal(notif_smtp_classify(CURLE_SEND_ERROR, 550), SVC_EPERMANENT);
	assert_int_equal(notif_smtp_classify(CURLE_LOGIN_DENIED, 535), SVC_EPERMANENT);
	assert_int_equal(notif_smtp_classify(CURLE_URL_MALFORMAT, 0), SVC_EPERMANENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base64_matches_rfc4648_vectors),
	        cmocka_unit_test(test_mail_has_headers_crlf_and_base64_body),
	        cmocka_unit_test(test_non_ascii_subject_is_encoded_word),
	        cmocka_unit_test(test_header_injection_and_bad_addresses_are_refused),
	        cmocka_unit_test(test_smtp_outcomes_are_classified),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
