// Package cron parses and evaluates the cron schedules of CronJobs, with
// the syntax and the error messages of the cron library Kubernetes uses
// (github.com/robfig/cron/v3's standard parser), so that the API server
// refuses the schedules kube-apiserver refuses, in its words, and the
// CronJob controller runs the ones it accepts.
package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule: standard five fields (minute, hour,
// day of month, month, day of week) or one of the @ macros, evaluated in
// a location.
type Schedule struct {
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record a day field written as * or ?, which
	// makes the day match on the other field alone.
	domStar, dowStar bool
	// every is the interval of an "@every" schedule.
	every time.Duration
	loc   *time.Location
}

type cronField struct {
	min, max int
	names    map[string]int
}

var (
	minuteField = cronField{0, 59, nil}
	hourField   = cronField{0, 23, nil}
	domField    = cronField{1, 31, nil}
	monthField  = cronField{1, 12, map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}}
	dowField    = cronField{0, 6, map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

// cronMacros are the @ forms and the five fields they stand for.
var cronMacros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse parses spec in loc. A leading TZ= or CRON_TZ= overrides
// loc, as the cron library Kubernetes uses allows.
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		i := strings.Index(spec, " ")
		if i < 0 {
			return nil, fmt.Errorf("missing fields after the time zone in %q", spec)
		}
		name := spec[strings.Index(spec, "=")+1 : i]
		l, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("provided bad location %s: %w", name, err)
		}
		loc = l
		spec = strings.TrimSpace(spec[i:])
	}
	if loc == nil {
		loc = time.UTC
	}
	if strings.HasPrefix(spec, "@") {
		if strings.HasPrefix(spec, "@every ") {
			d, err := time.ParseDuration(strings.TrimPrefix(spec, "@every "))
			if err != nil {
				return nil, fmt.Errorf("failed to parse duration %s: %w", spec, err)
			}
			if d < time.Second {
				d = time.Second
			}
			return &Schedule{every: d - time.Duration(d.Nanoseconds())%time.Second, loc: loc}, nil
		}
		m, ok := cronMacros[spec]
		if !ok {
			return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		spec = m
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(fields), fields)
	}
	s := &Schedule{loc: loc}
	var err error
	var star bool
	if s.minute, _, err = minuteField.parse(fields[0]); err != nil {
		return nil, err
	}
	if s.hour, _, err = hourField.parse(fields[1]); err != nil {
		return nil, err
	}
	if s.dom, s.domStar, err = domField.parse(fields[2]); err != nil {
		return nil, err
	}
	if s.month, _, err = monthField.parse(fields[3]); err != nil {
		return nil, err
	}
	if s.dow, star, err = dowField.parse(fields[4]); err != nil {
		return nil, err
	}
	s.dowStar = star
	return s, nil
}

// parse reads a comma-separated list of values, ranges and steps into a
// bit set; star reports a bare * or ? (stepped or not by 1).
func (f cronField) parse(expr string) (bits uint64, star bool, err error) {
	for _, part := range strings.Split(expr, ",") {
		b, s, err := f.parseRange(part)
		if err != nil {
			return 0, false, err
		}
		bits |= b
		star = star || s
	}
	return bits, star, nil
}

func (f cronField) parseRange(expr string) (uint64, bool, error) {
	rangeAndStep := strings.Split(expr, "/")
	if len(rangeAndStep) > 2 {
		return 0, false, fmt.Errorf("too many slashes: %s", expr)
	}
	lowHigh := strings.Split(rangeAndStep[0], "-")
	if len(lowHigh) > 2 {
		return 0, false, fmt.Errorf("too many hyphens: %s", expr)
	}
	var start, end int
	star := false
	var err error
	if lowHigh[0] == "*" || lowHigh[0] == "?" {
		if len(lowHigh) > 1 {
			return 0, false, fmt.Errorf("a range cannot start with *: %s", expr)
		}
		start, end, star = f.min, f.max, true
	} else {
		if start, err = f.value(lowHigh[0]); err != nil {
			return 0, false, err
		}
		end = start
		if len(lowHigh) == 2 {
			if end, err = f.value(lowHigh[1]); err != nil {
				return 0, false, err
			}
		}
	}
	step := 1
	if len(rangeAndStep) == 2 {
		if step, err = strconv.Atoi(rangeAndStep[1]); err != nil {
			return 0, false, fmt.Errorf("failed to parse int from %s: %w", rangeAndStep[1], err)
		}
		if step <= 0 {
			return 0, false, fmt.Errorf("step of range should be a positive number: %s", expr)
		}
		if len(lowHigh) == 1 && !star {
			end = f.max
		}
		if step > 1 {
			star = false
		}
	}
	switch {
	case start < f.min:
		return 0, false, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", start, f.min, expr)
	case end > f.max:
		return 0, false, fmt.Errorf("end of range (%d) above maximum (%d): %s", end, f.max, expr)
	case start > end:
		return 0, false, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", start, end, expr)
	}
	var bits uint64
	for i := start; i <= end; i += step {
		bits |= 1 << uint(i)
	}
	return bits, star, nil
}

func (f cronField) value(s string) (int, error) {
	if n, ok := f.names[strings.ToLower(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return n, nil
}

// dayMatches applies cron's day rule: with both day fields restricted a
// day matches either; otherwise both must match.
func (s *Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Next returns the first time after t the schedule fires, or the zero
// time when none comes within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond())*time.Nanosecond)
	}
	orig := t.Location()
	t = t.In(s.loc)
	// Start at the next whole minute.
	t = t.Truncate(time.Minute).Add(time.Minute)
	limit := t.Year() + 5
	for t.Year() <= limit {
		if s.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, s.loc)
			continue
		}
		if !s.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc)
			continue
		}
		if s.hour&(1<<uint(t.Hour())) == 0 {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, s.loc)
			continue
		}
		if s.minute&(1<<uint(t.Minute())) == 0 {
			t = t.Truncate(time.Minute).Add(time.Minute)
			continue
		}
		return t.In(orig)
	}
	return time.Time{}
}
