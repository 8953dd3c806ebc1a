/*
 * A scripted MariaDB for unit tests: a client table (svc/db_ops.h) that
 * answers from rules instead of a server and records what ran, so that a
 * test asserts behaviour (return codes, what was committed or rolled back,
 * how many transactions) rather than SQL text.
 *
 *     fake_db_install();                                 // before any thread
 *     fake_db_fail(fake_db_on("INSERT", "processed_messages"), 1062);
 *     fake_db_rows(fake_db_on("SELECT", "outbox_messages"), 2, 1, cells);
 *     ... run the code under test ...
 *     assert_int_equal(fake_db_commits(), 1);
 *     assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", "outbox_messages"), 1);
 *     fake_db_uninstall();
 *
 * A statement matches a rule when it begins with the rule's `prefix`
 * (case-insensitive; NULL: any) and contains `contains` (NULL: any). Rules
 * are tried newest first (a fault added by a test goes before the answers
 * of its set-up); the first that matches and still applies answers. A statement no rule answers
 * succeeds: a SELECT with an empty result set, any other statement with one affected row.
 *
 * The fake tracks transactions per connection: START TRANSACTION or BEGIN
 * opens one, COMMIT makes its statements committed, ROLLBACK (also ROLLBACK
 * TO SAVEPOINT, for the statements after the SAVEPOINT) and closing the
 * connection roll them back; a statement outside a transaction commits by
 * itself. It keeps SERVER_STATUS_IN_TRANS of the MYSQL handle up to date,
 * as svc_db_release() reads it. Connections are the pool's (svc_db_open
 * "connects" without a server) or any MYSQL the test owns.
 *
 * Thread-safe: the record and the rules are under one lock, so the code
 * under test may run threads, and a rule may be added while it runs (a rule
 * acts from its first setter on: set times or nth before what it answers).
 * Everything the fake hands out lives until fake_db_reset(); a pool opened
 * with the fake installed must be freed before fake_db_uninstall().
 */
#ifndef FAKE_DB_H
#define FAKE_DB_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MySQL error numbers the tests inject. */
#define FAKE_DB_ER_DUP_ENTRY     1062 /* permanent, an expected outcome */
#define FAKE_DB_ER_PARSE         1064 /* permanent */
#define FAKE_DB_ER_LOCK_DEADLOCK 1213 /* transient */
#define FAKE_DB_CR_SERVER_LOST   2013 /* transient */

/* Installs the fake as the process's database client and empties it. Call
 * before any thread starts (svc_db_set_ops). */
void fake_db_install(void);
/* Forgets the rules and the record; frees the results, rows and
 * statements handed out. The pool's connections stay valid. */
void fake_db_reset(void);
/* fake_db_reset(), then libmariadb is the client again. */
void fake_db_uninstall(void);
/* A pool (svc_db_open) of `size` connections that "connect" to the fake.
 * Caller owns it: svc_db_free() before fake_db_uninstall(). NULL on
 * allocation failure. */
struct svc_db *fake_db_pool_open(unsigned size);

/* ---- rules --------------------------------------------------------------- */

struct fake_db_result;

/* A dynamic answer for `sql`: fills `out` (fake_db_result_*) and returns 0,
 * or returns a MySQL error number to fail the statement. */
typedef unsigned fake_db_answer_fn(void *arg, const char *sql, struct fake_db_result *out);

/* A new rule (owned by the fake) for the statements that match; it answers
 * none until one of the setters below says how. */
struct fake_db_rule *fake_db_on(const char *prefix, const char *contains);
/* The statement fails with MySQL error `err` (fake_db_fail_msg: with
 * `message`, copied, as svc_db_error's text). Returns `r`. */
struct fake_db_rule *fake_db_fail(struct fake_db_rule *r, unsigned err);
struct fake_db_rule *fake_db_fail_msg(struct fake_db_rule *r, unsigned err, const char *message);
/* The statement answers `nrows` rows of `ncols` cells, row by row from
 * `cells` (copied; a NULL cell is SQL NULL). Returns `r`. */
struct fake_db_rule *fake_db_rows(struct fake_db_rule *r, size_t ncols, size_t nrows,
                                  const char *const *cells);
/* The statement reports `n` affected rows. Returns `r`. */
struct fake_db_rule *fake_db_affected(struct fake_db_rule *r, uint64_t n);
/* The statement is answered by `fn` (called under the fake's lock: it must
 * not run statements). Returns `r`. */
struct fake_db_rule *fake_db_answer(struct fake_db_rule *r, fake_db_answer_fn *fn, void *arg);
/* The rule applies to its first `times` matches only (0: every one). */
struct fake_db_rule *fake_db_times(struct fake_db_rule *r, unsigned times);
/* The rule applies to its `nth` match only (1-based). */
struct fake_db_rule *fake_db_nth(struct fake_db_rule *r, unsigned nth);
/* How many statements the rule answered. */
unsigned fake_db_applied(const struct fake_db_rule *r);

/* Result sets of a dynamic answer: the number of columns first, then rows
 * of that many cells (copied). */
void fake_db_result_cols(struct fake_db_result *res, size_t ncols);
void fake_db_result_add(struct fake_db_result *res, const char *const *cells);

/* Called with every statement before it runs, outside the fake's lock (it
 * may block, e.g. to hold a transaction open); NULL: none. */
void fake_db_hook(void (*fn)(const char *sql));
/* While down, connecting and pinging fail (2003, transient). */
void fake_db_set_down(bool down);

/* ---- what ran ------------------------------------------------------------ */

enum fake_db_fate {
	FAKE_DB_ANY,         /* every statement run, failed ones too */
	FAKE_DB_FAILED,      /* answered with an error */
	FAKE_DB_OPEN,        /* succeeded in a transaction still open */
	FAKE_DB_COMMITTED,   /* succeeded and committed (or ran outside a transaction) */
	FAKE_DB_ROLLED_BACK, /* succeeded, then rolled back */
};

/* Statements of `fate` that match (prefix, contains) as a rule does. */
size_t fake_db_count(enum fake_db_fate fate, const char *prefix, const char *contains);
/* The kth (0-based) of them, or NULL. */
const char *fake_db_find(enum fake_db_fate fate, const char *prefix, const char *contains,
                         size_t k);
/* The last of them, or "" (for strstr). */
const char *fake_db_last(enum fake_db_fate fate, const char *prefix, const char *contains);
/* Every statement run, in order. */
size_t fake_db_nstmts(void);
const char *fake_db_stmt(size_t i);
/* Transactions begun, committed and rolled back (whole ones: not to a
 * savepoint) successfully. */
unsigned fake_db_begins(void);
unsigned fake_db_commits(void);
unsigned fake_db_rollbacks(void);
/* Connections opened (the pool's) and closed. */
unsigned fake_db_connects(void);
unsigned fake_db_closes(void);

#endif
