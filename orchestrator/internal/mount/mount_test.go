package mount

import "testing"

func TestUnescapeMount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/plain":               "/plain",
		`/with\040space`:       "/with space",
		`/tab\011and\134slash`: `/tab` + "\t" + `and\slash`,
		`/short\04`:            `/short\04`,
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
