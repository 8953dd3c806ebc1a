/*
 * `chaos kill-proc`: what the ephemeral container of a kill-container
 * scenario runs. It shares the target container's PID namespace
 * (targetContainerName), so the target's main process is PID 1 there:
 *
 *   chaos kill-proc [--signal KILL] [--fallback TERM] [--wait-ms 3000] [--comm NAME]
 *
 * sends --signal to PID 1 (or to every process named NAME, when the pod
 * shares one PID namespace) and waits up to --wait-ms for it to go. The
 * kernel ignores a signal sent to the init process of a PID namespace from
 * inside it unless that process handles (or blocks) it, SIGKILL included:
 * when the target is still there, --fallback is sent (a signal the
 * services and the sidecar stop on) and waited for up to 30 s. What happened is printed (the
 * container's termination message). When PID 1 dies, the kernel kills this
 * process too: exit 137 is success.
 */
#ifndef CHAOS_KILLPROC_H
#define CHAOS_KILLPROC_H

/* Signal number of "KILL", "TERM", "SIGINT", ...; -1 when unknown. */
int chaos_signal_number(const char *name);

int chaos_killproc_main(int argc, char **argv);

#endif
