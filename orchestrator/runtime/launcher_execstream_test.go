package runtime

import (
	"strings"
	"testing"
)

func TestLauncherExecStreamOnATerminal(t *testing.T) {
	t.Parallel()
	d := newLauncher(t)
	ctx := tctx(t)
	if err := d.Start(ctx, "l-tty", ContainerSpec{Rootfs: rootfs(t), Args: []string{"/testapp", "-sleep", "1h"}}); err != nil {
		t.Fatal(err)
	}
	var tty safeBuffer
	code, err := d.ExecStream(ctx, "l-tty", ExecOptions{Args: []string{"/testapp", "-report"}, TTY: true, Stdout: &tty, Stdin: strings.NewReader("")})
	if err != nil || code != 0 || !strings.Contains(tty.String(), "cwd=/\r\n") {
		t.Errorf("exec on a terminal: %d, %v, %q", code, err, tty.String())
	}
	var out safeBuffer
	code, err = d.ExecStream(ctx, "l-tty", ExecOptions{Args: []string{"/testapp", "-cat", "/dev/stdin"}, Stdout: &out, Stdin: strings.NewReader("typed\n")})
	if err != nil || code != 0 || out.String() != "typed\n" {
		t.Errorf("exec with standard input: %d, %v, %q", code, err, out.String())
	}
}
