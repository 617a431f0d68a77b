// Package schedule evaluates EventBridge Scheduler expressions and fires
// template schedules locally.
//
// [Parse] reads the three forms EventBridge Scheduler accepts:
//
//   - rate(value unit), e.g. rate(5 minutes), rate(1 hour), rate(2 days);
//   - cron(minutes hours day-of-month month day-of-week year), e.g.
//     cron(0 6 * * ? *), with day-of-week 1-7 meaning SUN-SAT as in AWS;
//   - at(yyyy-mm-ddThh:mm:ss), a one-time schedule.
//
// An [Expression] yields slots: the instants a schedule fires at. Cron and
// at() read their wall-clock fields in a time zone and follow EventBridge
// Scheduler across daylight-saving changes: a wall time the clocks skip does
// not fire, and a wall time the clocks repeat fires once, at its first
// occurrence. Rates are anchored at the Unix epoch, so every process agrees
// on a rate's slots.
//
// A slot maps to an idempotency key ([IdempotencyKey]); a task created with
// that key exists at most once, however often the slot fires.
//
// [Runner] fires the schedules of loaded templates on time for `tasker dev`.
//
// The package embeds the IANA time zone database (time/tzdata), so time zone
// names resolve on hosts without one, such as Lambda's provided runtimes.
package schedule
