// Command testapp is the program the orchestrator's tests run in
// containers: a static binary that reports what it sees, serves HTTP, and
// misbehaves on request (crash, hang, eat memory, fail its probes).
//
//	testapp -report            print pid, hostname, uid, cwd, env and mounts, then exit
//	testapp -exit 3            exit with status 3
//	testapp -sleep 1h          sleep (a long-running container)
//	testapp -eat-mib 200       allocate and touch 200 MiB, then sleep
//	testapp -burn-millicores 300  keep 0.3 of a cpu busy, then sleep
//	         [-burn-for 30s]      (for 30 s only, then idle)
//	testapp -listen :8080      serve HTTP: / says hello, /healthz is 200
//	                           unless -unhealthy, /crash exits 1
//	testapp -cat FILE          print a file and exit
//	testapp -get URL -n 10     GET a URL n times, print each body, exit 1 on any failure;
//	                           an https URL is called as an in-cluster client does, with
//	                           the ServiceAccount's CA and token when they are mounted
//	testapp -append FILE ...   first append "HOSTNAME\n" (or -note's text) to FILE, then
//	                           "GET /path" for each HTTP request and "terminated" on SIGTERM
//	testapp -ignore-term ...   ignore SIGTERM (only SIGKILL stops it)
//	testapp -grpc :9090        serve gRPC's standard health service (grpc.health.v1),
//	         [-grpc-status NOT_SERVING]  answering SERVING (or this) for "" and "app"
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serviceAccountDir is where a Pod finds its ServiceAccount's token and
// the cluster's CA.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// inClusterClient is an HTTP client that, when the ServiceAccount's CA
// and token are mounted, trusts that CA and sends the token, as
// client-go's in-cluster configuration does.
func inClusterClient() *http.Client {
	ca, err := os.ReadFile(serviceAccountDir + "/ca.crt")
	if err != nil {
		return http.DefaultClient
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	token, _ := os.ReadFile(serviceAccountDir + "/token")
	return &http.Client{Transport: bearerTransport{
		token: strings.TrimSpace(string(token)),
		next:  &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
}

type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token != "" && r.URL.Scheme == "https" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

func main() {
	report := flag.Bool("report", false, "print what the process sees and exit")
	exit := flag.Int("exit", -1, "exit with this status")
	sleep := flag.Duration("sleep", 0, "sleep this long")
	eat := flag.Int("eat-mib", 0, "allocate and touch this many MiB")
	burnMilli := flag.Int("burn-millicores", 0, "keep this many thousandths of a cpu busy")
	burnFor := flag.Duration("burn-for", 0, "stop burning cpu after this long (0: never)")
	listen := flag.String("listen", "", "serve HTTP on this address")
	unhealthy := flag.Bool("unhealthy", false, "answer /healthz with 500")
	cat := flag.String("cat", "", "print this file and exit")
	get := flag.String("get", "", "GET this URL and print the body")
	n := flag.Int("n", 1, "how many times to GET")
	appendTo := flag.String("append", "", "append the hostname (or -note) to this file first, then requests and SIGTERM")
	noteText := flag.String("note", "", "what -append writes first instead of the hostname")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM")
	grpcAddr := flag.String("grpc", "", "serve gRPC's health service on this address")
	grpcStatus := flag.String("grpc-status", "SERVING", "what the health service answers: SERVING, NOT_SERVING, ...")
	flag.Parse()

	if *appendTo != "" {
		text := *noteText
		if text == "" {
			text, _ = os.Hostname()
		}
		if err := note(*appendTo, text); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}

	if *get != "" {
		client := inClusterClient()
		for i := 0; i < *n; i++ {
			resp, err := client.Get(*get)
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Print(string(body))
		}
		return
	}

	switch {
	case *report:
		host, _ := os.Hostname()
		cwd, _ := os.Getwd()
		fmt.Printf("pid=%d\nhostname=%s\nuid=%d\ngid=%d\ncwd=%s\n", os.Getpid(), host, os.Getuid(), os.Getgid(), cwd)
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			fmt.Printf("env %s\n", kv)
		}
		if mounts, err := os.ReadFile("/proc/self/mounts"); err == nil {
			for _, l := range strings.Split(strings.TrimSpace(string(mounts)), "\n") {
				f := strings.Fields(l)
				if len(f) > 3 {
					fmt.Printf("mount %s %s %s\n", f[1], f[2], f[3])
				}
			}
		}
		return
	case *cat != "":
		b, err := os.ReadFile(*cat)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	case *exit >= 0:
		fmt.Printf("exiting with %d\n", *exit)
		os.Exit(*exit)
	}
	var hog [][]byte
	for i := 0; i < *eat; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		hog = append(hog, b)
	}
	if *eat > 0 {
		fmt.Printf("holding %d MiB\n", len(hog))
	}
	if *burnMilli > 0 {
		burn(*burnMilli, *burnFor)
		fmt.Printf("burning %dm of cpu\n", *burnMilli)
	}
	if *listen != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if *appendTo != "" {
				_ = note(*appendTo, r.Method+" "+r.URL.Path)
			}
			host, _ := os.Hostname()
			fmt.Fprintf(w, "hello from %s\n", host)
		})
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
			if *unhealthy {
				http.Error(w, "unhealthy", http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		mux.HandleFunc("/crash", func(http.ResponseWriter, *http.Request) { os.Exit(1) })
		go func() {
			if err := http.ListenAndServe(*listen, mux); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}()
		fmt.Printf("listening on %s\n", *listen)
	}
	if *grpcAddr != "" {
		if err := serveGRPCHealth(*grpcAddr, *grpcStatus); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("serving gRPC health on %s\n", *grpcAddr)
	}
	// Exit 0 on SIGTERM, as a well-behaved server does.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	wait := *sleep
	if wait == 0 && *listen == "" && *grpcAddr == "" && *eat == 0 && *burnMilli == 0 {
		return
	}
	if wait == 0 {
		wait = 24 * time.Hour
	}
	select {
	case <-term:
		fmt.Println("terminated")
		if *appendTo != "" {
			_ = note(*appendTo, "terminated")
		}
	case <-time.After(wait):
	}
	_ = hog
}

// burn keeps milli thousandths of a cpu busy, in goroutines of at most a
// whole cpu each: every 100 ms period each spins for its share, then
// sleeps the rest. With a duration, it stops after it.
func burn(milli int, d time.Duration) {
	var stop <-chan time.Time
	if d > 0 {
		stop = time.After(d)
	}
	done := make(chan struct{})
	go func() {
		if stop != nil {
			<-stop
			close(done)
		}
	}()
	for milli > 0 {
		share := min(milli, 1000)
		milli -= share
		busy := time.Duration(share) * 100 * time.Millisecond / 1000
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				start := time.Now()
				for time.Since(start) < busy {
				}
				if rest := 100*time.Millisecond - time.Since(start); rest > 0 {
					time.Sleep(rest)
				}
			}
		}()
	}
}

// note appends a line to file.
func note(file, line string) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// serveGRPCHealth serves grpc-go's own health service on addr, the
// server as a whole ("") and the service "app" answering status, so that
// the gRPC probes are tested against a real gRPC server (any other
// service name is NotFound).
func serveGRPCHealth(addr, status string) error {
	code, ok := healthpb.HealthCheckResponse_ServingStatus_value[status]
	if !ok {
		return fmt.Errorf("-grpc-status %q: not a health status", status)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := health.NewServer()
	for _, svc := range []string{"", "app"} {
		hs.SetServingStatus(svc, healthpb.HealthCheckResponse_ServingStatus(code))
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	go func() {
		if err := s.Serve(l); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}()
	return nil
}
