package release

import (
	"maps"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// ValuesMode says how an upgrade treats the previous revision's values.
type ValuesMode int

// The values modes of `helm upgrade`.
const (
	// ValuesDefault reuses the previous values only when none are given.
	ValuesDefault ValuesMode = iota
	// ValuesReset (--reset-values) uses the chart's defaults and the new
	// values only.
	ValuesReset
	// ValuesReuse (--reuse-values) merges the new values over the previous
	// ones, and renders with the previous chart's defaults, as Helm does.
	ValuesReuse
	// ValuesResetThenReuse (--reset-then-reuse-values) merges the new
	// values over the previous ones with the new chart's defaults.
	ValuesResetThenReuse
)

// upgradeValues returns the user values an upgrade renders with, and
// changes c's defaults for ValuesReuse, as Helm does.
func upgradeValues(c *chart.Chart, current *Release, vals map[string]any, mode ValuesMode) (map[string]any, error) {
	switch mode {
	case ValuesReset:
		return vals, nil
	case ValuesReuse:
		if current.Chart != nil {
			old, err := render.CoalesceValues(current.Chart.Loaded(), current.Config)
			if err != nil {
				return nil, err
			}
			c.Values = old
		}
		return render.CoalesceTables(maps.Clone(vals), current.Config), nil
	case ValuesResetThenReuse:
		return render.CoalesceTables(maps.Clone(vals), current.Config), nil
	}
	if len(vals) == 0 && len(current.Config) > 0 {
		return current.Config, nil
	}
	return vals, nil
}
