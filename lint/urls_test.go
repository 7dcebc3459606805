package lint

import (
	"strings"
	"testing"

	"github.com/asaskevich/govalidator"
)

// addressCorpus holds e-mail addresses and URLs, good and bad, that the
// Chart.yaml rules may meet.
var addressCorpus = []string{
	"", "a", "abc", "abcd", ".", "..", "@", "a@b", "a@b.c", "a@b.co", "a@b.c0", "jane@example.com",
	"Jane.Doe+tag@Sub.Example.ORG", "a..b@example.com", ".a@example.com", "a.@example.com",
	`"quoted name"@example.com`, `"a\"b"@example.com`, "\"a\r\n b\"@example.com", "a@-example.com",
	"a@example-.com", "a@ex_ample.com", "a@example.c", "a@example.c1", "a@example.com.", "a@192.168.0.1",
	"a@[127.0.0.1]", `"q"@example.com`, `"q"u"@example.com`, `"@example.com`, `"(a"@example.com`, `"\a"@example.com`, "ü@exämple.de", "a b@example.com", "a@@example.com", "a@example..com",
	"http://example.com", "https://example.com/path?q=1#frag", "ftp://example.com", "example.com",
	"example.com/bot", "www.example.com", "http//broken url", "http:/x.com", "localhost",
	"http://localhost:8080", "localhost:8080", "http://127.0.0.1", "http://256.0.0.1", "http://[::1]:80/x",
	"http://[fe80::1%25eth0]/", "mailto:a@example.com", "javascript:alert(1)", "//example.com",
	"http://user:pass@example.com", "http://exa mple.com", "http://example.com:99999", "http://-x.com",
	"http://x-.com", "http://ex_ample.com", "https://例え.jp", "http://example.com/" + strings.Repeat("a", 2100),
	".example.com", "http://.example.com", "example", "http://example", "tcp://10.0.0.1:53", "wss://a.b",
	"icon.png", "/icon.png", "https://example.com/i.png", "file:///etc/passwd", "s3://bucket/key",
	"http://a.b.c.d.e.f", "http://1.2.3", "1.2.3.4", "http://example.com.", "http://x.com:0",
	"https://github.com/helm/helm", "git@github.com:helm/helm.git", "http://a_b.example.com",
}

func TestAddressesMatchGovalidator(t *testing.T) {
	a := newAddressSyntax()
	for _, s := range addressCorpus {
		if got, want := a.isEmail(s), govalidator.IsEmail(s); got != want {
			t.Errorf("isEmail(%q) = %v, govalidator says %v", s, got, want)
		}
		if got, want := a.isURL(s), govalidator.IsURL(s); got != want {
			t.Errorf("isURL(%q) = %v, govalidator says %v", s, got, want)
		}
		if got, want := isRequestURL(s), govalidator.IsRequestURL(s); got != want {
			t.Errorf("isRequestURL(%q) = %v, govalidator says %v", s, got, want)
		}
	}
}

func FuzzAddresses(f *testing.F) {
	for _, s := range addressCorpus {
		f.Add(s)
	}
	a := newAddressSyntax()
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := a.isEmail(s), govalidator.IsEmail(s); got != want {
			t.Errorf("isEmail(%q) = %v, govalidator says %v", s, got, want)
		}
		if got, want := a.isURL(s), govalidator.IsURL(s); got != want {
			t.Errorf("isURL(%q) = %v, govalidator says %v", s, got, want)
		}
		if got, want := isRequestURL(s), govalidator.IsRequestURL(s); got != want {
			t.Errorf("isRequestURL(%q) = %v, govalidator says %v", s, got, want)
		}
	})
}
