// Command clusterload measures a running `pkg cluster serve` from the
// outside, as Kubernetes clients see it: bench/cluster.sh runs it. It is a
// benchmark tool, not part of pkg: it links client-go, which pkg never does.
//
//	clusterload freeport
//	clusterload coldstart -bin bin/pkg -runs 10
//	clusterload creates   -data DIR -url URL -clients 32 -duration 10s
//	clusterload list      -data DIR -url URL -count 10000 -runs 20
//	clusterload watch     -data DIR -url URL -events 500
//
// Each prints one line per figure, "name value unit".
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: clusterload freeport|coldstart|creates|list|watch [flags]")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "freeport":
		err = freeport()
	case "coldstart":
		err = coldstart(ctx, os.Args[2:])
	case "creates":
		err = creates(ctx, os.Args[2:])
	case "list":
		err = list(ctx, os.Args[2:])
	case "watch":
		err = watchLatency(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterload:", err)
		os.Exit(1)
	}
}

// freeport prints a loopback TCP port nobody listens on right now.
func freeport() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// target is a server to talk to: its URL and data directory, where the
// token and CA are.
type target struct {
	data, url string
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.data, "data", "", "data directory of the running server")
	fs.StringVar(&t.url, "url", "", "https URL of the running server")
}

// clientset returns a client-go clientset for the server, JSON on the
// wire, without client-side rate limits.
func (t target) clientset() (*kubernetes.Clientset, error) {
	token, err := os.ReadFile(filepath.Join(t.data, "token"))
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(filepath.Join(t.data, "ca.crt"))
	if err != nil {
		return nil, err
	}
	cfg := &rest.Config{
		Host:            t.url,
		BearerToken:     strings.TrimSpace(string(token)),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             1e6,
		Burst:           1e6,
		ContentConfig:   rest.ContentConfig{ContentType: "application/json", AcceptContentTypes: "application/json"},
		Timeout:         60 * time.Second,
	}
	return kubernetes.NewForConfig(cfg)
}

// ensureNamespace creates ns unless it exists.
func ensureNamespace(ctx context.Context, cs *kubernetes.Clientset, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// configMap is the ~300-byte object every benchmark creates.
func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench", "tier": "load"}},
		Data:       map[string]string{"key": strings.Repeat("v", 128), "other": "value"},
	}
}

// coldstart launches `BIN cluster serve` RUNS times, each on a fresh data
// directory and port, and measures the time from exec to the first 200 on
// /version with the token; then as many restarts on an existing data
// directory. It prints the medians.
func coldstart(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ExitOnError)
	bin := fs.String("bin", "bin/pkg", "pkg binary")
	runs := fs.Int("runs", 10, "number of starts")
	_ = fs.Parse(args)
	root, err := os.MkdirTemp("", "clusterload-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	var first, again []time.Duration
	for i := range *runs {
		dir := filepath.Join(root, strconv.Itoa(i))
		d, err := startOnce(ctx, *bin, dir)
		if err != nil {
			return fmt.Errorf("first start %d: %w", i, err)
		}
		first = append(first, d)
		d, err = startOnce(ctx, *bin, dir)
		if err != nil {
			return fmt.Errorf("restart %d: %w", i, err)
		}
		again = append(again, d)
	}
	fmt.Printf("coldstart_first_median %.1f ms\n", ms(median(first)))
	fmt.Printf("coldstart_first_max %.1f ms\n", ms(slices.Max(first)))
	fmt.Printf("coldstart_restart_median %.1f ms\n", ms(median(again)))
	fmt.Printf("coldstart_restart_max %.1f ms\n", ms(slices.Max(again)))
	return nil
}

// startOnce starts one server on dir, times it to its first served
// request, and stops it.
func startOnce(ctx context.Context, bin, dir string) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := fmt.Sprintf("https://127.0.0.1:%d/version", port)
	// The probe only times the server: it skips verifying the certificate,
	// which a fresh data directory only gets during the start.
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // timing probe on loopback
		DisableKeepAlives: true,
	}}
	cmd := exec.CommandContext(ctx, bin, "cluster", "serve", "--data-dir", dir, "--port", strconv.Itoa(port))
	cmd.Stderr = nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	token := ""
	deadline := start.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if token == "" {
			if b, err := os.ReadFile(filepath.Join(dir, "token")); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				token = strings.TrimSpace(string(b))
			}
		}
		if token != "" {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := probe.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(start), nil
				}
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	return 0, errors.New("no 200 on /version within 10s")
}

// creates runs CLIENTS goroutines creating ConfigMaps for DURATION and
// prints the rate.
func creates(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("creates", flag.ExitOnError)
	var t target
	t.flags(fs)
	clients := fs.Int("clients", 32, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "how long to create")
	ns := fs.String("namespace", "bench-creates", "namespace to create in")
	_ = fs.Parse(args)
	cs, err := t.clientset()
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, cs, *ns); err != nil {
		return err
	}
	var done, failed atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				_, err := cs.CoreV1().ConfigMaps(*ns).Create(ctx, configMap(fmt.Sprintf("c%d-%d", c, i)), metav1.CreateOptions{})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("creates_total %d objects\n", done.Load())
	fmt.Printf("creates_failed %d objects\n", failed.Load())
	fmt.Printf("creates_per_second %.0f /s\n", float64(done.Load())/elapsed.Seconds())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", e)
	}
	return nil
}

// list fills a namespace with COUNT ConfigMaps and lists them RUNS times
// with client-go (request and decoding) and as raw bytes (request only).
func list(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	var t target
	t.flags(fs)
	count := fs.Int("count", 10000, "ConfigMaps in the namespace")
	runs := fs.Int("runs", 20, "lists to time")
	ns := fs.String("namespace", "bench-list", "namespace to fill and list")
	_ = fs.Parse(args)
	cs, err := t.clientset()
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, cs, *ns); err != nil {
		return err
	}
	next := atomic.Int64{}
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(*count) {
					return
				}
				_, err := cs.CoreV1().ConfigMaps(*ns).Create(ctx, configMap(fmt.Sprintf("l-%05d", i)), metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("filling %s: %w", *ns, err)
	}
	var typed, raw []time.Duration
	size := 0
	for range *runs {
		start := time.Now()
		l, err := cs.CoreV1().ConfigMaps(*ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		typed = append(typed, time.Since(start))
		if len(l.Items) != *count {
			return fmt.Errorf("listed %d ConfigMaps; want %d", len(l.Items), *count)
		}
		start = time.Now()
		b, err := cs.CoreV1().RESTClient().Get().Namespace(*ns).Resource("configmaps").DoRaw(ctx)
		if err != nil {
			return err
		}
		raw = append(raw, time.Since(start))
		size = len(b)
	}
	fmt.Printf("list_clientgo_median %.1f ms\n", ms(median(typed)))
	fmt.Printf("list_raw_median %.1f ms\n", ms(median(raw)))
	fmt.Printf("list_bytes %d bytes\n", size)
	return nil
}

// watchLatency watches a namespace and creates EVENTS ConfigMaps one
// after another, timing each from the create call to its ADDED event.
func watchLatency(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	var t target
	t.flags(fs)
	events := fs.Int("events", 500, "objects to create and see")
	ns := fs.String("namespace", "bench-watch", "namespace to watch")
	_ = fs.Parse(args)
	cs, err := t.clientset()
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, cs, *ns); err != nil {
		return err
	}
	w, err := cs.CoreV1().ConfigMaps(*ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	defer w.Stop()
	var lat []time.Duration
	for i := range *events {
		name := fmt.Sprintf("w-%d-%d", time.Now().UnixNano(), i)
		start := time.Now()
		if _, err := cs.CoreV1().ConfigMaps(*ns).Create(ctx, configMap(name), metav1.CreateOptions{}); err != nil {
			return err
		}
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return errors.New("watch closed")
				}
				if cm, isCM := ev.Object.(*corev1.ConfigMap); ev.Type == watch.Added && isCM && cm.Name == name {
					lat = append(lat, time.Since(start))
					break wait
				}
			case <-timeout:
				return fmt.Errorf("no ADDED event for %s within 10s", name)
			}
		}
	}
	slices.Sort(lat)
	fmt.Printf("watch_p50 %.2f ms\n", ms(lat[len(lat)/2]))
	fmt.Printf("watch_p99 %.2f ms\n", ms(lat[len(lat)*99/100]))
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
