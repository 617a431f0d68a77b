package schedule

// Schedules name IANA time zones; Lambda's provided runtimes ship no zoneinfo
// directory, so embed the database (about 450 KB) rather than fail there.
import _ "time/tzdata"
