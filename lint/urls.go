package lint

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The Chart.yaml rules accept e-mail addresses and URLs exactly as Helm's
// validator library (asaskevich/govalidator) does. The patterns below
// describe the same languages; urls_test.go checks them against that
// library on a corpus of inputs.

// wideChars are the non-ASCII ranges the e-mail grammar admits wherever
// it admits letters.
const wideChars = `\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}`

// emailPattern is an RFC 5322-style address: a dot-atom or (oddly)
// quoted local part, "@", then dot-separated domain labels ending in an
// alphabetic label, with an optional final dot.
func emailPattern() string {
	atom := "[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~" + wideChars + "]+"
	dotAtom := atom + `(\.` + atom + `)*`
	fold := `((([\x20\x09])*\x0d\x0a)?[\x20\x09]+)?`
	qtext := `[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e` + wideChars + `]`
	// The validator's quoted-pair is "(" (not a backslash) and a
	// character; and its repetition takes in the opening quote, so a
	// quoted local part is any number of quote-then-item runs closed by
	// a quote. Odd, but it is the language Helm accepts.
	item := `(` + qtext + `|\([\x01-\x09\x0b\x0c\x0d-\x7f])`
	quoted := `(\x22` + fold + item + `)*` + fold + `\x22`
	alnum := `[a-zA-Z0-9` + wideChars + `]`
	label := alnum + `(` + `[a-zA-Z0-9\-._~` + wideChars + `]*` + alnum + `)?`
	alpha := `[a-zA-Z` + wideChars + `]`
	top := alpha + `(` + `[a-zA-Z0-9\-_~` + wideChars + `]*` + alpha + `)?`
	return `^(` + dotAtom + `|` + quoted + `)@(` + label + `\.)+` + top + `\.?$`
}

// urlPattern is the validator's URL grammar: optional scheme and user
// info, then an IPv4 address, a bracketed IPv6 address or a host name,
// an optional port and an optional path, query or fragment.
func urlPattern() string {
	scheme := `((ftp|tcp|udp|wss?|https?):\/\/)`
	user := `(\S+(:\S*)?@)`
	ipv4 := `([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5]))`
	h16 := `[0-9a-fA-F]{1,4}`
	v4tail := `((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])`
	ipv6 := strings.Join([]string{
		`(` + h16 + `:){7,7}` + h16,
		`(` + h16 + `:){1,7}:`,
		`(` + h16 + `:){1,6}:` + h16,
		`(` + h16 + `:){1,5}(:` + h16 + `){1,2}`,
		`(` + h16 + `:){1,4}(:` + h16 + `){1,3}`,
		`(` + h16 + `:){1,3}(:` + h16 + `){1,4}`,
		`(` + h16 + `:){1,2}(:` + h16 + `){1,5}`,
		h16 + `:((:` + h16 + `){1,6})`,
		`:((:` + h16 + `){1,7}|:)`,
		`fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}`,
		`::(ffff(:0{1,4}){0,1}:){0,1}` + v4tail,
		`(` + h16 + `:){1,4}:` + v4tail,
	}, "|")
	subdomain := `((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))`
	hostLabels := `([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)`
	name := `(` + hostLabels + `|(` + subdomain + `?))?` +
		`(([a-zA-Z\x{00a1}-\x{ffff}0-9]+-?-?)*[a-zA-Z\x{00a1}-\x{ffff}0-9]+)` +
		`(?:\.([a-zA-Z\x{00a1}-\x{ffff}]{1,}))?`
	host := `((` + ipv4 + `|(\[(` + ipv6 + `)\])|` + name + `))`
	port := `(:(\d{1,5}))`
	rest := `((\/|\?|#)[^\s]*)`
	return `^` + scheme + `?` + user + `?` + host + `\.?` + port + `?` + rest + `?$`
}

// addressSyntax holds the compiled patterns; it is built once per lint
// run rather than kept in package state.
type addressSyntax struct {
	email *regexp.Regexp
	url   *regexp.Regexp
}

func newAddressSyntax() *addressSyntax {
	return &addressSyntax{
		email: regexp.MustCompile(emailPattern()),
		url:   regexp.MustCompile(urlPattern()),
	}
}

// isEmail reports whether s is an e-mail address.
func (a *addressSyntax) isEmail(s string) bool { return a.email.MatchString(s) }

// isURL reports whether s looks like a URL, scheme optional.
func (a *addressSyntax) isURL(s string) bool {
	if s == "" || utf8.RuneCountInString(s) >= 2083 || len(s) <= 3 || strings.HasPrefix(s, ".") {
		return false
	}
	parse := s
	if strings.Contains(s, ":") && !strings.Contains(s, "://") {
		// A colon without "://" is taken for a port: give url.Parse a
		// scheme so it does not read the host as one.
		parse = "http://" + s
	}
	u, err := url.Parse(parse)
	if err != nil {
		return false
	}
	if strings.HasPrefix(u.Host, ".") {
		return false
	}
	if u.Host == "" && u.Path != "" && !strings.Contains(u.Path, ".") {
		return false
	}
	return a.url.MatchString(s)
}

// isRequestURL reports whether s is an absolute URL with a scheme, as an
// HTTP request line would carry it.
func isRequestURL(s string) bool {
	u, err := url.ParseRequestURI(s)
	return err == nil && u.Scheme != ""
}
