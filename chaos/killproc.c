/*
 * chaos kill-proc (see killproc.h).
 */
#include "chaos/killproc.h"

#include "svc/clock.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_TARGETS      64
#define FALLBACK_WAIT_MS 30000L

int chaos_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},   {"QUIT", SIGQUIT},
	            {"ABRT", SIGABRT}, {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
	            {"SEGV", SIGSEGV}, {"STOP", SIGSTOP}};

	if (!name)
		return -1;
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(name, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* the processes named `comm`, not this one */
static size_t find(const char *comm, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	char name[64];

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		comm_of((pid_t)pid, name, sizeof(name));
		if (!strcmp(name, comm))
			out[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* true when every pid is gone within wait_ms */
static int wait_gone(const pid_t *pids, size_t n, long wait_ms)
{
	for (long waited = 0;; waited += 50) {
		size_t alive = 0;

		for (size_t i = 0; i < n; i++)
			alive += kill(pids[i], 0) == 0 || errno != ESRCH;
		if (alive == 0)
			return 1;
		if (waited >= wait_ms)
			return 0;
		svc_sleep_ms(50);
	}
}

static void send_all(const pid_t *pids, size_t n, int sig, const char *name)
{
	char comm[64];

	for (size_t i = 0; i < n; i++) {
		comm_of(pids[i], comm, sizeof(comm));
		printf("chaos kill-proc: SIG%s to PID %d (%s)\n", name, (int)pids[i], comm);
		fflush(stdout);
		if (kill(pids[i], sig) != 0)
			printf("chaos kill-proc: kill(%d, SIG%s): %s\n", (int)pids[i], name,
			       strerror(errno));
	}
	fflush(stdout);
}

int chaos_killproc_main(int argc, char **argv)
{
	const char *signame = "KILL", *fallback = NULL, *comm = NULL;
	long wait_ms = 3000;
	pid_t pids[MAX_TARGETS];
	size_t n = 0;
	int sig, fsig = -1;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--signal") && i + 1 < argc)
			signame = argv[++i];
		else if (!strcmp(argv[i], "--fallback") && i + 1 < argc)
			fallback = argv[++i];
		else if (!strcmp(argv[i], "--comm") && i + 1 < argc)
			comm = argv[++i];
		else if (!strcmp(argv[i], "--wait-ms") && i + 1 < argc)
			wait_ms = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: chaos kill-proc [--signal KILL] [--fallback TERM] "
			                "[--wait-ms MS] [--comm NAME]\n");
			return 2;
		}
	}
	sig = chaos_signal_number(signame);
	if (fallback)
		fsig = chaos_signal_number(fallback);
	if (sig < 0 || (fallback && fsig < 0)) {
		fprintf(stderr, "chaos kill-proc: unknown signal\n");
		return 2;
	}
	if (comm)
		n = find(comm, pids, MAX_TARGETS);
	else
		pids[n++] = 1;
	if (n == 0) {
		printf("chaos kill-proc: no process named %s\n", comm);
		return 1;
	}
	send_all(pids, n, sig, signame);
	if (wait_gone(pids, n, wait_ms)) {
		printf("chaos kill-proc: gone after SIG%s\n", signame);
		return 0;
	}
	printf("chaos kill-proc: still running %ld ms after SIG%s%s\n", wait_ms, signame,
	       pids[0] == 1 ? " (ignored: PID 1 of its namespace)" : "");
	if (fsig < 0)
		return 1;
	send_all(pids, n, fsig, fallback);
	/* a graceful stop takes longer than a kill */
	if (wait_gone(pids, n, wait_ms > FALLBACK_WAIT_MS ? wait_ms : FALLBACK_WAIT_MS)) {
		printf("chaos kill-proc: gone after SIG%s\n", fallback);
		return 0;
	}
	printf("chaos kill-proc: still running after SIG%s\n", fallback);
	return 1;
}
