package controllers

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	from := time.Date(2026, 1, 30, 10, 17, 42, 0, time.UTC) // a Friday
	tests := []struct {
		spec string
		loc  *time.Location
		want []time.Time
	}{
		{"* * * * *", nil, []time.Time{time.Date(2026, 1, 30, 10, 18, 0, 0, time.UTC), time.Date(2026, 1, 30, 10, 19, 0, 0, time.UTC)}},
		{"*/15 * * * *", nil, []time.Time{time.Date(2026, 1, 30, 10, 30, 0, 0, time.UTC), time.Date(2026, 1, 30, 10, 45, 0, 0, time.UTC)}},
		{"5/20 9-11 * * *", nil, []time.Time{time.Date(2026, 1, 30, 10, 25, 0, 0, time.UTC), time.Date(2026, 1, 30, 10, 45, 0, 0, time.UTC), time.Date(2026, 1, 30, 11, 5, 0, 0, time.UTC)}},
		{"0 0 * * *", nil, []time.Time{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}},
		{"@hourly", nil, []time.Time{time.Date(2026, 1, 30, 11, 0, 0, 0, time.UTC)}},
		{"@daily", nil, []time.Time{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}},
		{"@weekly", nil, []time.Time{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
		{"@monthly", nil, []time.Time{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
		{"@yearly", nil, []time.Time{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"30 8 * * MON-FRI", nil, []time.Time{time.Date(2026, 2, 2, 8, 30, 0, 0, time.UTC), time.Date(2026, 2, 3, 8, 30, 0, 0, time.UTC)}},
		{"0 12 31 * *", nil, []time.Time{time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)}},
		// Both day fields restricted: either matches (the 1st, or a Sunday).
		{"0 0 1 * SUN", nil, []time.Time{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 8, 0, 0, 0, 0, time.UTC)}},
		{"0 0 29 feb *", nil, []time.Time{time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)}},
		{"0 9 * * *", ny, []time.Time{time.Date(2026, 1, 30, 14, 0, 0, 0, time.UTC)}},
		{"CRON_TZ=America/New_York 0 9 * * *", nil, []time.Time{time.Date(2026, 1, 30, 14, 0, 0, 0, time.UTC)}},
		{"@every 90s", nil, []time.Time{time.Date(2026, 1, 30, 10, 19, 12, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			s, err := parseSchedule(tt.spec, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			cur := from
			for i, want := range tt.want {
				cur = s.next(cur)
				if !cur.Equal(want) {
					t.Fatalf("next #%d after %v = %v, want %v", i+1, from, cur.UTC(), want)
				}
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, want string }{
		{"", "empty spec string"},
		{"* * * *", "expected exactly 5 fields, found 4"},
		{"60 * * * *", "end of range (60) above maximum (59)"},
		{"* * 0 * *", "beginning of range (0) below minimum (1)"},
		{"5-1 * * * *", "beginning of range (5) beyond end of range (1)"},
		{"*/0 * * * *", "step of range should be a positive number"},
		{"* * * foo *", "failed to parse int from foo"},
		{"@fortnightly", "unrecognized descriptor: @fortnightly"},
		{"TZ=Nowhere/City * * * * *", "provided bad location Nowhere/City"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			_, err := parseSchedule(tt.spec, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
