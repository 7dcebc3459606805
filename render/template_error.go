package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// Phases of a TemplateError.
const (
	// PhaseParse marks an error found while parsing a template file.
	PhaseParse = "parse"
	// PhaseExecute marks an error raised while executing a template.
	PhaseExecute = "execute"
)

// TemplateError is a template that failed to parse or to execute. It keeps
// where the failure happened as data; Error gives the text Helm v3.22.0
// prints for the same failure, which users and tests compare:
//
//	parse error at (mychart/templates/x.yaml:3): function "foo" not defined
//	execution error at (mychart/templates/x.yaml:7:12): image.tag is required
//	template: mychart/templates/x.yaml:9:4: executing "..." at <...>: ...
//
// The location comes from text/template, which reports it only inside its
// message ("template: NAME:LINE:COL: ..."). It is read from there once,
// where the error is made, taking the same part of the message Helm does;
// the messages of required and fail are taken from the error chain.
type TemplateError struct {
	// Phase is PhaseParse or PhaseExecute.
	Phase string
	// Template is the template file that was being parsed or rendered, as
	// "chart/templates/x.yaml" ("parent/charts/sub/templates/x.yaml").
	Template string
	// Name is the template executing when the error was raised: Template
	// itself, or a template it included. Empty for parse errors.
	Name string
	// Source, Line and Col locate the failing action. Source is the file
	// holding the failing text (another file for a failure inside an
	// included definition; "gotpl" for text given to tpl). Parse errors
	// carry a line only. Source is empty when text/template gave no
	// location; Line is 0 when it gave a name without a position.
	Source    string
	Line, Col int
	// Failure reports a failure raised on purpose by the required or fail
	// functions; Message is then their message. For parse errors Message
	// is the parser's reason.
	Failure bool
	Message string
	// Err is the error from text/template: for execution errors usually a
	// template.ExecError, whose chain holds errors of functions.
	Err error
}

// Error returns the message Helm prints for the same failure.
func (e *TemplateError) Error() string {
	if e.Phase == PhaseParse {
		if e.Source == "" {
			return fmt.Sprintf("parse error in (%s): %v", e.Template, e.Err)
		}
		return fmt.Sprintf("parse error at (%s): %s", e.location(), e.Message)
	}
	if _, ok := e.Err.(template.ExecError); !ok {
		return e.errText()
	}
	switch {
	case e.Source == "":
		return fmt.Sprintf("execution error in (%s): %v", e.Template, e.Err)
	case e.Failure:
		return fmt.Sprintf("execution error at (%s): %s", e.location(), e.Message)
	}
	return e.errText()
}

// Unwrap returns the error from text/template.
func (e *TemplateError) Unwrap() error { return e.Err }

func (e *TemplateError) errText() string {
	if e.Err == nil {
		return "template " + e.Phase + " error in " + e.Template
	}
	return e.Err.Error()
}

// location formats Source, Line and Col as text/template does.
func (e *TemplateError) location() string {
	switch {
	case e.Line == 0:
		return e.Source
	case e.Phase == PhaseParse:
		return e.Source + ":" + strconv.Itoa(e.Line)
	}
	return e.Source + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col)
}

// newParseError describes a parse failure of a template file. The parser's
// message is "template: NAME:LINE: REASON"; like Helm, the location is the
// second ": "-separated field and the reason the last one.
func newParseError(file string, err error) *TemplateError {
	te := &TemplateError{Phase: PhaseParse, Template: file, Err: err}
	fields := strings.Split(err.Error(), ": ")
	if len(fields) > 1 {
		te.Source, te.Line, _ = splitLocation(fields[1], 1)
		te.Message = fields[len(fields)-1]
	}
	return te
}

// newExecError describes an execution failure of a template file. An
// ExecError's message is "template: LOCATION: executing ..."; the location
// is its second ": "-separated field, as Helm reads it.
func newExecError(file string, err error) *TemplateError {
	te := &TemplateError{Phase: PhaseExecute, Template: file, Err: err}
	xe, ok := err.(template.ExecError)
	if !ok {
		return te
	}
	te.Name = xe.Name
	fields := strings.SplitN(err.Error(), ": ", 3)
	if len(fields) != 3 {
		return te
	}
	te.Source, te.Line, te.Col = splitLocation(fields[1], 2)
	var fe *failureError
	if errors.As(err, &fe) {
		te.Failure, te.Message = true, fe.msg
	}
	return te
}

// splitLocation splits "NAME:1:2" (n=2) or "NAME:1" (n=1) into its parts.
// Anything else is returned whole as the name, with no position.
func splitLocation(loc string, n int) (name string, line, col int) {
	nums := make([]int, n)
	rest := loc
	for i := n - 1; i >= 0; i-- {
		j := strings.LastIndexByte(rest, ':')
		if j < 0 {
			return loc, 0, 0
		}
		v, err := strconv.Atoi(rest[j+1:])
		if err != nil || v < 0 || strconv.Itoa(v) != rest[j+1:] {
			return loc, 0, 0
		}
		nums[i], rest = v, rest[:j]
	}
	if nums[0] == 0 {
		return loc, 0, 0
	}
	if n == 2 {
		col = nums[1]
	}
	return rest, nums[0], col
}

// failureError is the error of required and fail. Its text carries Helm's
// markers around the message, as Helm's does, so that text scanned by
// other tools reads the same; the engine takes the message from the error
// chain rather than from the text.
type failureError struct{ msg string }

func (e *failureError) Error() string { return "HELM_ERR_START" + e.msg + "HELM_ERR_END" }
