// The time formats of the wire protocol (docs/protocol.md §5). JavaScript
// clocks have millisecond precision; the nanosecond digits are zeros.

/** RFC 3339 in UTC with trailing fractional zeros dropped, like Go's time.RFC3339Nano: "2026-11-27T06:00:04.25Z". */
export function rfc3339Nano(t: Date): string {
  const iso = t.toISOString(); // 2026-11-27T06:00:04.250Z
  const [whole, frac] = iso.slice(0, -1).split(".");
  const trimmed = (frac ?? "").replace(/0+$/, "");
  return trimmed === "" ? `${whole}Z` : `${whole}.${trimmed}Z`;
}

/** The fixed-width sortable format with nine fractional digits: "2026-11-27T06:02:34.250000000Z". */
export function sortableTime(t: Date): string {
  const iso = t.toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

/** The compact form in history attribute names: "20261127T060004.250000000". */
export function historyTime(t: Date): string {
  const iso = t.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}000000`;
}
