/*
 * The result of one scenario: a JSON document the runner prints (one line,
 * after "CHAOS-RESULT ") and the report reads (report.h). Times are seconds
 * (numbers; null when not reached); "at_s" values and the series count from
 * the start of the load.
 *
 *   scenario, description, started_at (ISO 8601), verdict ("PASS"/"FAIL"),
 *   failures       [text]: why it failed
 *   settings       {selector, action, container, signal, mode, grace_s,
 *                   interval_s, duration_s, baseline_s, observe_s, rate,
 *                   decline_every, recovery_target_s}
 *   deadlines      {inventory_ms, payment_ms, compensation_ms, scan_ms,
 *                   terminal_bound_s}
 *   kills          [{at_s, pods [name], ready_s, order_s, error, ended, note}]
 *   recovery       {baseline_per_s, ready_s, order_s, rate_s, recovery_s,
 *                   target_s, met}: the slowest of each way over the kills
 *                   (rate_s from the last kill), recovery_s the slowest of
 *                   the three
 *   orders         {requests, accepted, confirmed, cancelled, declined,
 *                   cancelled_by_fault, lost, not_terminal, late,
 *                   http_errors, no_answer, dropped, errors_by_status
 *                   {"503": n, ...}, cancel_reasons {"reason": n}}
 *   invariants     {ok, captured_net, confirmed_totals, sold_exact,
 *                   checks [{name, violations, examples [text]}]}
 *   series         {created, confirmed, cancelled, errors}: per second
 */
#ifndef CHAOS_RESULT_H
#define CHAOS_RESULT_H

#define CHAOS_RESULT_PREFIX "CHAOS-RESULT "

#endif
