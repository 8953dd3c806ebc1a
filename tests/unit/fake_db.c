/* A scripted MariaDB for unit tests (fake_db.h). */
#include "tests/unit/fake_db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/db.h"
#include "svc/db_ops.h"

#define FAKE_DB_MAX_CONNS          64
#define FAKE_DB_CR_CONN_HOST_ERROR 2003

struct fake_db_result {
	size_t ncols, nrows, cap, next;
	char **cells;        /* nrows * ncols */
	unsigned long *lens; /* of the row fetched last */
};

struct fake_db_rule {
	char *prefix, *contains;
	unsigned err;
	char *message;
	bool has_rows, has_affected;
	size_t ncols, nrows;
	char **cells;
	uint64_t affected;
	fake_db_answer_fn *fn;
	void *arg;
	unsigned times, nth, matched, applied;
	struct fake_db_rule *next;
};

struct stmt {
	char *sql;
	MYSQL *conn;
	enum fake_db_fate fate;
};

struct conn_state {
	MYSQL *conn;
	bool owned; /* allocated by init(NULL): freed by close */
	unsigned err;
	char msg[256];
	uint64_t affected;
	struct fake_db_result *pending; /* the last statement's, until stored */
	bool in_tx;
	size_t savepoint; /* index of the last SAVEPOINT statement */
};

static struct {
	pthread_mutex_t mu;
	struct fake_db_rule *rules; /* newest first */
	struct stmt *stmts;
	size_t nstmts, cap;
	struct conn_state conns[FAKE_DB_MAX_CONNS];
	unsigned begins, commits, rollbacks, connects, closes;
	void (*hook)(const char *sql);
	bool down;
} fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "fake_db: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t len;
	char *d;

	if (!s)
		return NULL;
	len = strlen(s);
	d = xcalloc(1, len + 1);
	memcpy(d, s, len);
	return d;
}

/* ---- result sets --------------------------------------------------------- */

static struct fake_db_result *result_new(size_t ncols)
{
	struct fake_db_result *r = xcalloc(1, sizeof(*r));

	r->ncols = ncols ? ncols : 1;
	r->lens = xcalloc(r->ncols, sizeof(*r->lens));
	return r;
}

static void result_free(struct fake_db_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	free(r);
}

void fake_db_result_cols(struct fake_db_result *res, size_t ncols)
{
	if (res->nrows == 0) {
		res->ncols = ncols ? ncols : 1;
		free(res->lens);
		res->lens = xcalloc(res->ncols, sizeof(*res->lens));
	}
}

void fake_db_result_add(struct fake_db_result *res, const char *const *cells)
{
	if (res->nrows == res->cap) {
		size_t cap = res->cap ? 2 * res->cap : 8;
		char **grown = xcalloc(cap * res->ncols, sizeof(*grown));

		if (res->cells)
			memcpy(grown, res->cells, res->nrows * res->ncols * sizeof(*grown));
		free(res->cells);
		res->cells = grown;
		res->cap = cap;
	}
	for (size_t j = 0; j < res->ncols; j++)
		res->cells[res->nrows * res->ncols + j] = xstrdup(cells[j]);
	res->nrows++;
}

/* ---- connections --------------------------------------------------------- */

/* The state of `conn`, registered on first sight; NULL when full. */
static struct conn_state *conn_state(MYSQL *conn, bool owned)
{
	struct conn_state *free_slot = NULL;

	if (!conn)
		return NULL;
	for (size_t i = 0; i < FAKE_DB_MAX_CONNS; i++) {
		if (fake.conns[i].conn == conn)
			return &fake.conns[i];
		if (!fake.conns[i].conn && !free_slot)
			free_slot = &fake.conns[i];
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->conn = conn;
	free_slot->owned = owned;
	return free_slot;
}

/* Marks the open statements of `conn` from index `from` on as `fate`. */
static void settle(MYSQL *conn, size_t from, enum fake_db_fate fate)
{
	for (size_t i = from; i < fake.nstmts; i++)
		if (fake.stmts[i].conn == conn && fake.stmts[i].fate == FAKE_DB_OPEN)
			fake.stmts[i].fate = fate;
}

static void tx_end(struct conn_state *c, enum fake_db_fate fate)
{
	settle(c->conn, 0, fate);
	c->in_tx = false;
	c->conn->server_status &= ~(unsigned)SERVER_STATUS_IN_TRANS;
}

static void set_error(struct conn_state *c, unsigned err, const char *message)
{
	if (!c)
		return;
	c->err = err;
	if (message)
		snprintf(c->msg, sizeof(c->msg), "%s", message);
	else if (err)
		snprintf(c->msg, sizeof(c->msg), "fake error %u", err);
	else
		c->msg[0] = '\0';
}

static int fake_library_init(void)
{
	return 0;
}

static MYSQL *fake_init(MYSQL *conn)
{
	bool owned = !conn;

	if (owned)
		conn = xcalloc(1, sizeof(*conn));
	else
		memset(conn, 0, sizeof(*conn));
	pthread_mutex_lock(&fake.mu);
	if (!conn_state(conn, owned) && owned) {
		free(conn);
		conn = NULL;
	}
	pthread_mutex_unlock(&fake.mu);
	return conn;
}

static int fake_options(MYSQL *conn, enum mysql_option option, const void *arg)
{
	(void)conn, (void)option, (void)arg;
	return 0;
}

static MYSQL *fake_real_connect(MYSQL *conn, const char *host, const char *user, const char *passwd,
                                const char *db, unsigned int port, const char *unix_socket,
                                unsigned long flags)
{
	MYSQL *ret = conn;

	(void)host, (void)user, (void)passwd, (void)db, (void)port, (void)unix_socket;
	pthread_mutex_lock(&fake.mu);
	if (fake.down) {
		set_error(conn_state(conn, false), FAKE_DB_CR_CONN_HOST_ERROR, NULL);
		ret = NULL;
	} else {
		conn->client_flag = flags;
		fake.connects++;
	}
	pthread_mutex_unlock(&fake.mu);
	return ret;
}

static my_bool fake_autocommit(MYSQL *conn, my_bool on)
{
	(void)conn, (void)on;
	return 0;
}

static int fake_ping(MYSQL *conn)
{
	int rc = 0;

	pthread_mutex_lock(&fake.mu);
	if (fake.down) {
		set_error(conn_state(conn, false), 2006, "server has gone away");
		rc = 1;
	}
	pthread_mutex_unlock(&fake.mu);
	return rc;
}

static void fake_close(MYSQL *conn)
{
	struct conn_state *c;
	bool owned = false;

	if (!conn)
		return;
	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	if (c) {
		if (c->in_tx)
			tx_end(c, FAKE_DB_ROLLED_BACK);
		result_free(c->pending);
		owned = c->owned;
		memset(c, 0, sizeof(*c));
	}
	fake.closes++;
	pthread_mutex_unlock(&fake.mu);
	if (owned)
		free(conn);
}

/* ---- statements ---------------------------------------------------------- */

static bool begins_with(const char *sql, const char *prefix)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	return strncasecmp(sql, prefix, strlen(prefix)) == 0;
}

static bool matches(const char *sql, const char *prefix, const char *contains)
{
	return (!prefix || begins_with(sql, prefix)) && (!contains || strstr(sql, contains));
}

/* The rule that answers `sql` (counted), or NULL. */
static struct fake_db_rule *rule_for(const char *sql)
{
	for (struct fake_db_rule *r = fake.rules; r; r = r->next) {
		if (!(r->err || r->has_rows || r->has_affected || r->fn) ||
		    !matches(sql, r->prefix, r->contains))
			continue;
		r->matched++;
		if (r->nth && r->matched != r->nth)
			continue;
		if (r->times && r->applied >= r->times)
			continue;
		r->applied++;
		return r;
	}
	return NULL;
}

static void record(char *sql, MYSQL *conn, enum fake_db_fate fate)
{
	if (fake.nstmts == fake.cap) {
		size_t cap = fake.cap ? 2 * fake.cap : 64;
		struct stmt *grown = xcalloc(cap, sizeof(*grown));

		if (fake.stmts)
			memcpy(grown, fake.stmts, fake.nstmts * sizeof(*grown));
		free(fake.stmts);
		fake.stmts = grown;
		fake.cap = cap;
	}
	fake.stmts[fake.nstmts++] = (struct stmt){sql, conn, fate};
}

/* Transaction control after `sql` succeeded on `c`; the fate of `sql`. */
static enum fake_db_fate control(struct conn_state *c, const char *sql)
{
	if (begins_with(sql, "START TRANSACTION") || begins_with(sql, "BEGIN")) {
		if (c->in_tx) /* an implicit commit, as the server does */
			tx_end(c, FAKE_DB_COMMITTED);
		c->in_tx = true;
		c->conn->server_status |= SERVER_STATUS_IN_TRANS;
		fake.begins++;
	} else if (begins_with(sql, "COMMIT")) {
		tx_end(c, FAKE_DB_COMMITTED);
		fake.commits++;
	} else if (begins_with(sql, "ROLLBACK TO")) {
		settle(c->conn, c->savepoint, FAKE_DB_ROLLED_BACK);
	} else if (begins_with(sql, "ROLLBACK")) {
		tx_end(c, FAKE_DB_ROLLED_BACK);
		fake.rollbacks++;
	} else if (begins_with(sql, "SAVEPOINT")) {
		c->savepoint = fake.nstmts;
	} else {
		return c->in_tx ? FAKE_DB_OPEN : FAKE_DB_COMMITTED;
	}
	return FAKE_DB_COMMITTED;
}

static struct fake_db_result *rule_rows(const struct fake_db_rule *r)
{
	struct fake_db_result *res = result_new(r->ncols);

	for (size_t i = 0; i < r->nrows; i++)
		fake_db_result_add(res, (const char *const *)&r->cells[i * r->ncols]);
	return res;
}

static int fake_real_query(MYSQL *conn, const char *q, unsigned long len)
{
	char *sql = xcalloc(1, len + 1);
	struct fake_db_result *res = NULL;
	struct fake_db_rule *rule;
	struct conn_state *c;
	const char *message = NULL;
	unsigned err = 0;

	memcpy(sql, q, len);
	if (fake.hook)
		fake.hook(sql);
	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	if (!c) {
		pthread_mutex_unlock(&fake.mu);
		free(sql);
		return 1;
	}
	result_free(c->pending);
	c->pending = NULL;
	rule = rule_for(sql);
	if (rule && rule->fn) {
		res = result_new(1);
		err = rule->fn(rule->arg, sql, res);
	} else if (rule && rule->err) {
		err = rule->err;
		message = rule->message;
	} else if (rule && rule->has_rows) {
		res = rule_rows(rule);
	} else if (begins_with(sql, "SELECT")) {
		res = result_new(1);
	}
	if (err) {
		result_free(res);
		set_error(c, err, message);
		c->affected = (uint64_t)-1;
		record(sql, conn, FAKE_DB_FAILED);
	} else {
		set_error(c, 0, NULL);
		c->pending = res;
		c->affected = rule && rule->has_affected ? rule->affected : res ? res->nrows : 1;
		record(sql, conn, control(c, sql));
	}
	pthread_mutex_unlock(&fake.mu);
	return err ? 1 : 0;
}

static int fake_next_result(MYSQL *conn)
{
	(void)conn;
	return -1; /* one statement per query */
}

static unsigned int fake_field_count(MYSQL *conn)
{
	struct conn_state *c;
	unsigned n;

	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	n = c && c->pending ? (unsigned)c->pending->ncols : 0;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

static my_ulonglong fake_affected_rows(MYSQL *conn)
{
	struct conn_state *c;
	my_ulonglong n;

	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	n = c ? (my_ulonglong)c->affected : 0;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

static unsigned int fake_errnum(MYSQL *conn)
{
	struct conn_state *c;
	unsigned err;

	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	err = c ? c->err : 0;
	pthread_mutex_unlock(&fake.mu);
	return err;
}

static const char *fake_error(MYSQL *conn)
{
	struct conn_state *c;
	const char *msg;

	/* the text stays in the connection's slot until its next statement */
	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	msg = c ? c->msg : "";
	pthread_mutex_unlock(&fake.mu);
	return msg;
}

static unsigned long fake_real_escape_string(MYSQL *conn, char *to, const char *from,
                                             unsigned long len)
{
	unsigned long n = 0;

	(void)conn;
	for (unsigned long i = 0; i < len; i++) {
		if (from[i] == '\'' || from[i] == '\\')
			to[n++] = '\\';
		to[n++] = from[i];
	}
	to[n] = '\0';
	return n;
}

static MYSQL_RES *fake_store_result(MYSQL *conn)
{
	struct conn_state *c;
	struct fake_db_result *res = NULL;

	pthread_mutex_lock(&fake.mu);
	c = conn_state(conn, false);
	if (c) {
		res = c->pending;
		c->pending = NULL;
	}
	pthread_mutex_unlock(&fake.mu);
	return (MYSQL_RES *)res;
}

static MYSQL_ROW fake_fetch_row(MYSQL_RES *result)
{
	struct fake_db_result *r = (struct fake_db_result *)result;
	char **row;

	if (r->next >= r->nrows)
		return NULL;
	row = &r->cells[r->next++ * r->ncols];
	for (size_t j = 0; j < r->ncols; j++)
		r->lens[j] = row[j] ? (unsigned long)strlen(row[j]) : 0;
	return row;
}

static unsigned long *fake_fetch_lengths(MYSQL_RES *result)
{
	return ((struct fake_db_result *)result)->lens;
}

static my_ulonglong fake_num_rows(MYSQL_RES *result)
{
	return ((struct fake_db_result *)result)->nrows;
}

static void fake_free_result(MYSQL_RES *result)
{
	result_free((struct fake_db_result *)result);
}

static const struct svc_db_ops fake_ops = {
        .library_init = fake_library_init,
        .init = fake_init,
        .options = fake_options,
        .real_connect = fake_real_connect,
        .autocommit = fake_autocommit,
        .ping = fake_ping,
        .close = fake_close,
        .real_query = fake_real_query,
        .next_result = fake_next_result,
        .field_count = fake_field_count,
        .affected_rows = fake_affected_rows,
        .errnum = fake_errnum,
        .error = fake_error,
        .real_escape_string = fake_real_escape_string,
        .store_result = fake_store_result,
        .fetch_row = fake_fetch_row,
        .fetch_lengths = fake_fetch_lengths,
        .num_rows = fake_num_rows,
        .free_result = fake_free_result,
};

/* ---- set-up -------------------------------------------------------------- */

static void rule_free(struct fake_db_rule *r)
{
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->prefix);
	free(r->contains);
	free(r->message);
	free(r);
}

void fake_db_reset(void)
{
	pthread_mutex_lock(&fake.mu);
	while (fake.rules) {
		struct fake_db_rule *next = fake.rules->next;

		rule_free(fake.rules);
		fake.rules = next;
	}
	for (size_t i = 0; i < fake.nstmts; i++)
		free(fake.stmts[i].sql);
	free(fake.stmts);
	fake.stmts = NULL;
	fake.nstmts = fake.cap = 0;
	for (size_t i = 0; i < FAKE_DB_MAX_CONNS; i++) {
		struct conn_state *c = &fake.conns[i];

		result_free(c->pending);
		c->pending = NULL;
		c->err = 0;
		c->msg[0] = '\0';
		c->savepoint = 0;
		if (c->conn && c->in_tx)
			c->conn->server_status &= ~(unsigned)SERVER_STATUS_IN_TRANS;
		c->in_tx = false;
		if (!c->owned) /* the test's own handle: forget it */
			memset(c, 0, sizeof(*c));
	}
	fake.begins = fake.commits = fake.rollbacks = fake.connects = fake.closes = 0;
	fake.hook = NULL;
	fake.down = false;
	pthread_mutex_unlock(&fake.mu);
}

void fake_db_install(void)
{
	fake_db_reset();
	svc_db_set_ops(&fake_ops);
}

void fake_db_uninstall(void)
{
	fake_db_reset();
	svc_db_set_ops(NULL);
}

struct svc_db *fake_db_pool_open(unsigned size)
{
	const struct svc_db_config cfg = {.host = "fake",
	                                  .user = "test",
	                                  .database = "test",
	                                  .pool_size = size,
	                                  .timeout_s = 1};

	return svc_db_open(&cfg);
}

struct fake_db_rule *fake_db_on(const char *prefix, const char *contains)
{
	struct fake_db_rule *r = xcalloc(1, sizeof(*r));

	r->prefix = xstrdup(prefix);
	r->contains = xstrdup(contains);
	pthread_mutex_lock(&fake.mu);
	r->next = fake.rules; /* newest first */
	fake.rules = r;
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_fail(struct fake_db_rule *r, unsigned err)
{
	return fake_db_fail_msg(r, err, NULL);
}

struct fake_db_rule *fake_db_fail_msg(struct fake_db_rule *r, unsigned err, const char *message)
{
	pthread_mutex_lock(&fake.mu);
	r->err = err;
	free(r->message);
	r->message = xstrdup(message);
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_rows(struct fake_db_rule *r, size_t ncols, size_t nrows,
                                  const char *const *cells)
{
	pthread_mutex_lock(&fake.mu);
	r->has_rows = true;
	r->ncols = ncols ? ncols : 1;
	r->nrows = ncols ? nrows : 0;
	r->cells = xcalloc(r->nrows * r->ncols, sizeof(*r->cells));
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		r->cells[i] = xstrdup(cells[i]);
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_affected(struct fake_db_rule *r, uint64_t n)
{
	pthread_mutex_lock(&fake.mu);
	r->has_affected = true;
	r->affected = n;
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_answer(struct fake_db_rule *r, fake_db_answer_fn *fn, void *arg)
{
	pthread_mutex_lock(&fake.mu);
	r->fn = fn;
	r->arg = arg;
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_times(struct fake_db_rule *r, unsigned times)
{
	pthread_mutex_lock(&fake.mu);
	r->times = times;
	pthread_mutex_unlock(&fake.mu);
	return r;
}

struct fake_db_rule *fake_db_nth(struct fake_db_rule *r, unsigned nth)
{
	pthread_mutex_lock(&fake.mu);
	r->nth = nth;
	pthread_mutex_unlock(&fake.mu);
	return r;
}

unsigned fake_db_applied(const struct fake_db_rule *r)
{
	unsigned n;

	pthread_mutex_lock(&fake.mu);
	n = r->applied;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

void fake_db_hook(void (*fn)(const char *sql))
{
	fake.hook = fn;
}

void fake_db_set_down(bool down)
{
	pthread_mutex_lock(&fake.mu);
	fake.down = down;
	pthread_mutex_unlock(&fake.mu);
}

/* ---- what ran ------------------------------------------------------------ */

static bool of_fate(const struct stmt *s, enum fake_db_fate fate)
{
	return fate == FAKE_DB_ANY || s->fate == fate;
}

size_t fake_db_count(enum fake_db_fate fate, const char *prefix, const char *contains)
{
	size_t n = 0;

	pthread_mutex_lock(&fake.mu);
	for (size_t i = 0; i < fake.nstmts; i++)
		n += of_fate(&fake.stmts[i], fate) && matches(fake.stmts[i].sql, prefix, contains);
	pthread_mutex_unlock(&fake.mu);
	return n;
}

const char *fake_db_find(enum fake_db_fate fate, const char *prefix, const char *contains, size_t k)
{
	const char *found = NULL;

	pthread_mutex_lock(&fake.mu);
	for (size_t i = 0; i < fake.nstmts && !found; i++)
		if (of_fate(&fake.stmts[i], fate) && matches(fake.stmts[i].sql, prefix, contains) &&
		    k-- == 0)
			found = fake.stmts[i].sql;
	pthread_mutex_unlock(&fake.mu);
	return found;
}

const char *fake_db_last(enum fake_db_fate fate, const char *prefix, const char *contains)
{
	const char *found = "";

	pthread_mutex_lock(&fake.mu);
	for (size_t i = fake.nstmts; i-- > 0;)
		if (of_fate(&fake.stmts[i], fate) && matches(fake.stmts[i].sql, prefix, contains)) {
			found = fake.stmts[i].sql;
			break;
		}
	pthread_mutex_unlock(&fake.mu);
	return found;
}

size_t fake_db_nstmts(void)
{
	size_t n;

	pthread_mutex_lock(&fake.mu);
	n = fake.nstmts;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

const char *fake_db_stmt(size_t i)
{
	const char *s;

	pthread_mutex_lock(&fake.mu);
	s = i < fake.nstmts ? fake.stmts[i].sql : NULL;
	pthread_mutex_unlock(&fake.mu);
	return s;
}

static unsigned counter(const unsigned *c)
{
	unsigned n;

	pthread_mutex_lock(&fake.mu);
	n = *c;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

unsigned fake_db_begins(void)
{
	return counter(&fake.begins);
}

unsigned fake_db_commits(void)
{
	return counter(&fake.commits);
}

unsigned fake_db_rollbacks(void)
{
	return counter(&fake.rollbacks);
}

unsigned fake_db_connects(void)
{
	return counter(&fake.connects);
}

unsigned fake_db_closes(void)
{
	return counter(&fake.closes);
}
