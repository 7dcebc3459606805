package lint

import (
	"fmt"
	"regexp"
	"strings"
)

// Kubernetes object names are validated with the rules of the API server
// for the object's kind, with its wording, as Helm does without linking
// the Kubernetes libraries either.

const (
	dns1123LabelFmt     = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
	dns1123SubdomainFmt = dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*"
	dns1035LabelFmt     = "[a-z]([-a-z0-9]*[a-z0-9])?"

	dns1123LabelMsg     = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
	dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
	dns1035LabelMsg     = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
)

// nameRules validates metadata.name values; it is built once per lint run.
type nameRules struct {
	label, subdomain, label1035 *regexp.Regexp
}

func newNameRules() *nameRules {
	return &nameRules{
		label:     regexp.MustCompile("^" + dns1123LabelFmt + "$"),
		subdomain: regexp.MustCompile("^" + dns1123SubdomainFmt + "$"),
		label1035: regexp.MustCompile("^" + dns1035LabelFmt + "$"),
	}
}

// patternProblem words a failed pattern match as the API server does.
func patternProblem(msg, pattern string, examples ...string) string {
	var b strings.Builder
	b.WriteString(msg)
	b.WriteString(" (e.g. ")
	for i, e := range examples {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("'" + e + "', ")
	}
	b.WriteString("regex used for validation is '" + pattern + "')")
	return b.String()
}

func tooLong(n int) string { return fmt.Sprintf("must be no more than %d characters", n) }

// subdomainProblems checks an RFC 1123 subdomain (most kinds).
func (r *nameRules) subdomainProblems(name string) []string {
	var out []string
	if len(name) > 253 {
		out = append(out, tooLong(253))
	}
	if !r.subdomain.MatchString(name) {
		out = append(out, patternProblem(dns1123SubdomainMsg, dns1123SubdomainFmt, "example.com"))
	}
	return out
}

// labelProblems checks an RFC 1123 label (namespaces).
func (r *nameRules) labelProblems(name string) []string {
	var out []string
	if len(name) > 63 {
		out = append(out, tooLong(63))
	}
	if !r.label.MatchString(name) {
		if r.subdomain.MatchString(name) {
			out = append(out, "must not contain dots")
		} else {
			out = append(out, patternProblem(dns1123LabelMsg, dns1123LabelFmt, "my-name", "123-abc"))
		}
	}
	return out
}

// label1035Problems checks an RFC 1035 label (services).
func (r *nameRules) label1035Problems(name string) []string {
	var out []string
	if len(name) > 63 {
		out = append(out, tooLong(63))
	}
	if !r.label1035.MatchString(name) {
		out = append(out, patternProblem(dns1035LabelMsg, dns1035LabelFmt, "my-name", "abc-123"))
	}
	return out
}

// pathSegmentProblems checks a name that must be usable as one URL path
// segment (RBAC kinds).
func pathSegmentProblems(name string) []string {
	if name == "." || name == ".." {
		return []string{fmt.Sprintf("may not be '%s'", name)}
	}
	var out []string
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(name, bad) {
			out = append(out, fmt.Sprintf("may not contain '%s'", bad))
		}
	}
	return out
}

// problems returns what is wrong with name for an object of kind.
func (r *nameRules) problems(kind, name string) []string {
	switch strings.ToLower(kind) {
	case "service":
		return r.label1035Problems(name)
	case "namespace":
		return r.labelProblems(name)
	case "certificatesigningrequest":
		return nil
	case "role", "clusterrole", "rolebinding", "clusterrolebinding":
		return pathSegmentProblems(name)
	}
	// Everything else, service accounts included, is a DNS subdomain.
	return r.subdomainProblems(name)
}

// check returns the finding for an object whose metadata.name breaks the
// naming rules of its kind, or nil. Repeated problems are reported once;
// several are listed between brackets.
func (r *nameRules) check(obj *K8sYamlStruct) error {
	var parts []string
	seen := map[string]bool{}
	for _, p := range r.problems(obj.Kind, obj.Metadata.Name) {
		text := fmt.Sprintf("metadata.name: Invalid value: %q: %s", obj.Metadata.Name, p)
		if seen[text] {
			continue
		}
		seen[text] = true
		parts = append(parts, text)
	}
	if len(parts) == 0 {
		return nil
	}
	detail := parts[0]
	if len(parts) > 1 {
		detail = "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Errorf("object name does not conform to Kubernetes naming requirements: %q: %s", obj.Metadata.Name, detail)
}
