package render

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	helmengine "helm.sh/helm/v3/pkg/engine"
)

// TestKeyPoolHandsOutEachKeyOnce takes keys from a pool that generates
// ahead, beyond what it keeps, and after it stops: all are distinct.
func TestKeyPoolHandsOutEachKeyOnce(t *testing.T) {
	t.Parallel()
	for _, refill := range []bool{false, true} {
		t.Run(fmt.Sprint("refill=", refill), func(t *testing.T) {
			t.Parallel()
			p := newKeyPool(1024, refill)
			p.want(3)
			seen := map[string]bool{}
			take := func() {
				k, err := p.take()
				if err != nil {
					t.Fatal(err)
				}
				if err := k.Validate(); err != nil || k.N.BitLen() != 1024 {
					t.Fatalf("bad key (%d bits): %v", k.N.BitLen(), err)
				}
				n := k.N.String()
				if seen[n] {
					t.Fatal("a key was handed out twice")
				}
				seen[n] = true
			}
			for range 5 {
				take()
			}
			p.stop()
			p.stop()
			take()
			if len(seen) != 6 {
				t.Fatalf("got %d distinct keys, want 6", len(seen))
			}
		})
	}
}

// TestKeyPoolGeneratesAhead checks that keys are ready before they are
// asked for, and that a refilling pool replaces the keys taken.
func TestKeyPoolGeneratesAhead(t *testing.T) {
	t.Parallel()
	p := newKeyPool(1024, true)
	defer p.stop()
	p.want(2)
	waitFor(t, func() bool { return len(p.keys) == 2 })
	if _, err := p.take(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(p.keys) == 2 })
	if n := p.unclaimed.Load(); n != 2 {
		t.Errorf("unclaimed = %d, want 2", n)
	}
	p.want(100)
	if p.ordered != keyPoolMax {
		t.Errorf("pool keeps %d keys, want at most %d", p.ordered, keyPoolMax)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestScanCryptoDemand counts the call sites that need keys or
// passwords.
func TestScanCryptoDemand(t *testing.T) {
	t.Parallel()
	funcs := newFuncTable()
	src := `{{ define "x" }}{{ genCA "a" 1 }}{{ end }}
{{ $c := genSelfSignedCert "b" nil nil 3 }}{{ if .x }}{{ (genSignedCert "c" nil nil 1 $c).Cert }}{{ end }}
{{ range .l }}{{ genPrivateKey "rsa" }}{{ genPrivateKey "ecdsa" }}{{ genPrivateKey .t }}{{ "rsa" | genPrivateKey }}{{ end }}
{{ derivePassword 1 "long" "pw" "user" "site" }}{{ derivePassword 1 "long" .pw "user" "site" }}
{{ with .y }}{{ genCAWithKey "a" 1 .k }}{{ else }}{{ genCA "z" 2 | toString }}{{ end }}`
	trees, err := parse.Parse("t", src, "", "", funcs.funcs, funcs.builtins)
	if err != nil {
		t.Fatal(err)
	}
	var d cryptoDemand
	scanCryptoDemand(trees, &d)
	want := cryptoDemand{rsa2048: 4, rsa4096: 1, passwords: []passwordArgs{{1, "long", "pw", "user", "site"}}}
	if d.rsa2048 != want.rsa2048 || d.rsa4096 != want.rsa4096 || !slices.Equal(d.passwords, want.passwords) {
		t.Errorf("got %+v, want %+v", d, want)
	}
}

// cryptoTemplate calls every crypto function whose work aheadWork does.
const cryptoTemplate = `{{- $ca := genCA "my-ca" 30 -}}
{{- $self := genSelfSignedCert "self.local" (list "10.0.0.1") (list "self.local" "alt.local") 365 -}}
{{- $signed := genSignedCert "svc" nil (list "svc.ns.svc") 90 $ca -}}
ca.crt: {{ $ca.Cert | b64enc }}
ca.key: {{ $ca.Key | b64enc }}
self.crt: {{ $self.Cert | b64enc }}
self.key: {{ $self.Key | b64enc }}
signed.crt: {{ $signed.Cert | b64enc }}
signed.key: {{ $signed.Key | b64enc }}
rsa.key: {{ genPrivateKey "rsa" | b64enc }}
ec.key: {{ genPrivateKey "ecdsa" | b64enc }}
bad: {{ genPrivateKey "nope" }}
derived: {{ derivePassword 1 "long" "password" "user" "example.com" }}
derived2: {{ derivePassword 2 "basic" .Values.pw "user" "example.com" }}
type: {{ typeOf $ca }}`

// describeCryptoOutput reduces the output of cryptoTemplate to what is
// not random: PEM types, key sizes, certificate subjects, names, usages,
// validity and signers.
func describeCryptoOutput(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	certs := map[string]*x509.Certificate{}
	for _, line := range strings.Split(out, "\n") {
		name, val, _ := strings.Cut(line, ": ")
		data, err := base64.StdEncoding.DecodeString(val)
		if err != nil || !strings.Contains(name, ".") {
			fmt.Fprintf(&b, "%s\n", line)
			continue
		}
		block, rest := pem.Decode(data)
		if block == nil || len(strings.TrimSpace(string(rest))) > 0 {
			t.Fatalf("%s: not one PEM block: %q", name, data)
		}
		fmt.Fprintf(&b, "%s: %s", name, block.Type)
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			fmt.Fprintf(&b, " %d bits e=%d primes=%d", k.N.BitLen(), k.E, len(k.Primes))
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			certs[name] = c
			pub := c.PublicKey.(*rsa.PublicKey)
			fmt.Fprintf(&b, " cn=%s ca=%v ips=%v dns=%v usage=%d ext=%v days=%d bits=%d serialbits<=128:%v",
				c.Subject.CommonName, c.IsCA, c.IPAddresses, c.DNSNames, c.KeyUsage, c.ExtKeyUsage,
				int(c.NotAfter.Sub(c.NotBefore).Hours()/24+0.5), pub.N.BitLen(), c.SerialNumber.BitLen() <= 128)
		}
		b.WriteString("\n")
	}
	if c, ca := certs["signed.crt"], certs["ca.crt"]; c == nil || ca == nil || c.CheckSignatureFrom(ca) != nil {
		t.Error("signed.crt is not signed by ca.crt")
	}
	return b.String()
}

// TestCryptoFuncsMatchHelm renders cryptoTemplate with Helm's engine and
// ours (with and without a Cache, so with keys generated ahead and not):
// the outputs must agree in everything that is not random.
func TestCryptoFuncsMatchHelm(t *testing.T) {
	t.Parallel()
	hc := engHelmChart("crypto", map[string]string{"templates/a.yaml": cryptoTemplate})
	vals := map[string]any{"pw": "secret"}
	top, err := chartutil.ToRenderValues(hc, vals, chartutil.ReleaseOptions{Name: "r", Namespace: "ns"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := helmengine.Engine{}.Render(hc, top)
	if err != nil {
		t.Fatal(err)
	}
	wantDesc := describeCryptoOutput(t, want["crypto/templates/a.yaml"])
	oc := engFromHelm(hc)
	cache := &Cache{}
	defer cache.Close()
	for i, e := range []Engine{{}, {Cache: cache}, {Cache: cache}} {
		got, err := e.Render(oc, engTop(t, oc, vals))
		if err != nil {
			t.Fatal(err)
		}
		if desc := describeCryptoOutput(t, got["crypto/templates/a.yaml"]); desc != wantDesc {
			t.Errorf("render %d:\n got  %s\n want %s", i, desc, wantDesc)
		}
		if got["crypto/templates/a.yaml"] == want["crypto/templates/a.yaml"] {
			t.Error("random output repeated")
		}
	}

	// Failures are Helm's, with a key from a pool too.
	for _, tpl := range []string{
		`{{ genSelfSignedCert "x" (list "not-an-ip") nil 1 }}`,
		`{{ genSignedCert "x" nil nil 1 (dict "Cert" "junk" "Key" "junk") }}`,
		`{{ genCA "x" "not-a-number" }}`,
	} {
		hc := engHelmChart("bad", map[string]string{"templates/a.yaml": tpl})
		top, err := chartutil.ToRenderValues(hc, nil, chartutil.ReleaseOptions{Name: "r", Namespace: "ns"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, wantErr := helmengine.Engine{}.Render(hc, top)
		oc := engFromHelm(hc)
		_, gotErr := Engine{Cache: cache}.Render(oc, engTop(t, oc, nil))
		if wantErr == nil || gotErr == nil || wantErr.Error() != gotErr.Error() {
			t.Errorf("%s:\n got  %v\n want %v", tpl, gotErr, wantErr)
		}
	}
}

// TestCacheConcurrentKeyRenders renders a chart that generates keys from
// several goroutines through one Cache: every render gets its own key.
func TestCacheConcurrentKeyRenders(t *testing.T) {
	t.Parallel()
	c := engChart("k", map[string]string{"templates/a.yaml": `{{ (genCA "ca" 1).Key }}`})
	cache := &Cache{}
	defer cache.Close()
	e := Engine{Cache: cache}
	const workers, renders = 4, 2
	keys := make(chan string, workers*renders)
	errs := make(chan error, workers*renders)
	for range workers {
		tops := []map[string]any{engTop(t, c, nil), engTop(t, c, nil)}
		go func() {
			for i := range renders {
				out, err := e.Render(c, tops[i])
				errs <- err
				keys <- out["k/templates/a.yaml"]
			}
		}()
	}
	seen := map[string]bool{}
	for range workers * renders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		k := <-keys
		if !strings.HasPrefix(k, "-----BEGIN RSA PRIVATE KEY-----") || seen[k] {
			t.Fatalf("bad or repeated key %.60q", k)
		}
		seen[k] = true
	}
}

// TestKeyWorkStops checks that generating keys ahead stops when a render
// without a Cache ends, when a Prepared is dropped and when a Cache is
// closed.
func TestKeyWorkStops(t *testing.T) {
	t.Parallel()
	c := engChart("k", map[string]string{"templates/a.yaml": `{{ if .Values.gen }}{{ genCA "ca" 1 }}{{ end }}`})
	stopped := func(a *aheadWork) bool {
		a.rsa2048.mu.Lock()
		defer a.rsa2048.mu.Unlock()
		return a.rsa2048.stopped
	}

	e := Engine{}
	p, err := e.prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Render(c, engTop(t, c, nil)); err != nil {
		t.Fatal(err)
	}
	if a := p.templates.ahead; stopped(a) || a.rsa2048.ordered != 1 {
		t.Fatalf("work not started: stopped %v, ordered %d", stopped(a), a.rsa2048.ordered)
	}
	p.templates.ahead.stop()

	p, err = e.Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	a := p.templates.ahead
	p = nil
	waitFor(t, func() bool { runtime.GC(); return stopped(a) })

	cache := &Cache{}
	if _, err := (Engine{Cache: cache}).Render(c, engTop(t, c, nil)); err != nil {
		t.Fatal(err)
	}
	a = cache.ahead
	cache.Close()
	if !stopped(a) {
		t.Error("Close did not stop the cache's work")
	}
}
