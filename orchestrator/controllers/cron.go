package controllers

import (
	"time"

	"pkg.dev/pkg/orchestrator/internal/cron"
)

// schedule is a parsed cron schedule (the parser is shared with the API
// server, which refuses the schedules it cannot parse).
type schedule struct{ s *cron.Schedule }

// parseSchedule parses spec in loc. A leading TZ= or CRON_TZ= overrides
// loc, as the cron library Kubernetes uses allows.
func parseSchedule(spec string, loc *time.Location) (*schedule, error) {
	s, err := cron.Parse(spec, loc)
	if err != nil {
		return nil, err
	}
	return &schedule{s}, nil
}

// next returns the first time after t the schedule fires, or the zero
// time when none comes within five years.
func (s *schedule) next(t time.Time) time.Time { return s.s.Next(t) }
