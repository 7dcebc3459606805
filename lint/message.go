package lint

import "fmt"

// Severity ranks a lint finding. The order matters: a finding fails the
// lint when its severity reaches the tolerance (Error, or Warning in
// strict mode).
type Severity int

// The severities, lowest first, as Helm numbers them.
const (
	// Unknown is a finding whose severity was not set.
	Unknown Severity = iota
	// Info is advice, such as a missing icon or values.yaml.
	Info
	// Warning is a break with convention that will likely still work.
	Warning
	// Error is a problem that will likely make installation fail.
	Error
)

// String returns the label Helm prints between brackets.
func (s Severity) String() string {
	switch s {
	case Info:
		return "INFO"
	case Warning:
		return "WARNING"
	case Error:
		return "ERROR"
	}
	return "UNKNOWN"
}

// Message is one finding: how severe it is, what it is about (a path
// relative to the chart, such as "Chart.yaml" or "templates/", or the
// chart directory itself for dependency findings) and what is wrong.
type Message struct {
	Severity Severity
	Path     string
	Err      error
}

// Error formats the message as `helm lint` prints it:
// "[SEVERITY] path: text".
func (m Message) Error() string {
	return fmt.Sprintf("[%s] %s: %s", m.Severity, m.Path, m.Err)
}

// Unwrap returns the finding's cause.
func (m Message) Unwrap() error { return m.Err }

// Result is what linting one chart found, in the order the rules ran.
type Result struct {
	// Dir is the absolute chart directory that was linted (for an archive,
	// the temporary directory it was unpacked to).
	Dir      string
	Messages []Message
}

// HighestSeverity returns the severity of the worst finding, or Unknown
// when there is none.
func (r *Result) HighestSeverity() Severity {
	high := Unknown
	for _, m := range r.Messages {
		if m.Severity > high {
			high = m.Severity
		}
	}
	return high
}

// Failures returns the findings that fail the lint: those of severity
// Error, or also Warning when strict is set.
func (r *Result) Failures(strict bool) []Message {
	tolerance := Error
	if strict {
		tolerance = Warning
	}
	var out []Message
	for _, m := range r.Messages {
		if m.Severity >= tolerance {
			out = append(out, m)
		}
	}
	return out
}

// HasWarningsOrErrors reports whether any finding is above Info.
func (r *Result) HasWarningsOrErrors() bool {
	for _, m := range r.Messages {
		if m.Severity > Info {
			return true
		}
	}
	return false
}

// check records err, if any, as a finding of the given severity about
// path, and reports whether the rule passed.
func (r *Result) check(sev Severity, path string, err error) bool {
	if err == nil {
		return true
	}
	r.Messages = append(r.Messages, Message{Severity: sev, Path: path, Err: err})
	return false
}
