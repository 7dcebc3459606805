package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/orchestrator/cluster"
)

// clusterOptions are the flags of the cluster commands.
type clusterOptions struct {
	dataDir string
	address string
	port    int
	nodes   int
	runtime string
	config  string
	// dnsUpstream are the --dns-upstream values, as given.
	dnsUpstream []string
	// userspaceRelay is --userspace-relay.
	userspaceRelay bool
}

// clusterDataDir is the default data directory: $XDG_DATA_HOME/pkg/cluster,
// else ~/.local/share/pkg/cluster.
func clusterDataDir(env Env) string {
	base := env.getenv("XDG_DATA_HOME")
	if base == "" {
		base = filepath.Join(env.getenv("HOME"), ".local", "share")
	}
	return filepath.Join(base, "pkg", "cluster")
}

// clusterKubeconfig is where `pkg cluster up` writes the kubeconfig:
// $XDG_CONFIG_HOME/pkg/kubeconfig, else ~/.config/pkg/kubeconfig.
func clusterKubeconfig(env Env) string {
	base := env.getenv("XDG_CONFIG_HOME")
	if base == "" {
		base = filepath.Join(env.getenv("HOME"), ".config")
	}
	return filepath.Join(base, "pkg", "kubeconfig")
}

func newClusterCmd(env Env) *cobra.Command {
	o := &clusterOptions{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "run pkg's bundled orchestrator on this machine",
		Long: `Run pkg's bundled orchestrator: a Kubernetes API server on this machine.

  pkg cluster up            start it in the background and write a kubeconfig
  pkg cluster status        say whether it runs, where, and since when
  pkg cluster kubeconfig    print the kubeconfig (--path: only its path)
  pkg cluster down          stop it
  pkg cluster serve         run it in the foreground (systemd, containers)

The API listens on 127.0.0.1:6443 by default and requires the bearer token
generated at first start; its certificate is signed by a CA generated at
first start. Both live in the data directory, by default
$XDG_DATA_HOME/pkg/cluster (else ~/.local/share/pkg/cluster), where Secrets
are stored encrypted. The kubeconfig is written to
$XDG_CONFIG_HOME/pkg/kubeconfig (else ~/.config/pkg/kubeconfig):

  pkg cluster up
  export KUBECONFIG=~/.config/pkg/kubeconfig
  kubectl get ns`,
		Args: noArgs,
	}
	cmd.PersistentFlags().StringVar(&o.dataDir, "data-dir", clusterDataDir(env), "directory holding the cluster's store, credentials and log")
	cmd.AddCommand(
		newClusterServeCmd(env, o),
		newClusterUpCmd(env, o),
		newClusterDownCmd(env, o),
		newClusterStatusCmd(env, o),
		newClusterKubeconfigCmd(env, o),
	)
	return cmd
}

// addServeFlags registers the flags shared by serve and up.
func (o *clusterOptions) addServeFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.address, "address", cluster.DefaultAddress, "address to listen on (loopback only by default)")
	fs.IntVar(&o.port, "port", cluster.DefaultPort, "port of the Kubernetes API")
	fs.IntVar(&o.nodes, "nodes", 1, "number of virtual nodes (node agents registering pkg-node-1..N)")
	fs.StringVar(&o.runtime, "runtime", "auto", "container runtime of the nodes: runc, builtin (the built-in launcher, also without root), or auto (runc when it can run here, else builtin); with --config, of the nodes the file names none for")
	fs.StringVar(&o.config, "config", "", "cluster config file (kind Cluster) listing the nodes with their names, zones, labels, capacity, taints and runtimes; replaces --nodes")
	fs.StringSliceVar(&o.dnsUpstream, "dns-upstream", nil, "DNS servers (IP or IP:PORT, repeatable; \"host\" for this host's /etc/resolv.conf nameservers) the cluster DNS forwards names outside cluster.local to; with none, such names get NXDOMAIN")
	fs.BoolVar(&o.userspaceRelay, "userspace-relay", false, "relay node port and load balancer connections in the orchestrator's process even where the kernel can join them (a BPF sockmap, used when running as root)")
}

// nodeConfigs reads the --config file: nil without one. It refuses
// --nodes beside it, which the file's node list would silently override.
func (o *clusterOptions) nodeConfigs(cmd *cobra.Command) ([]cluster.NodeConfig, error) {
	if o.config == "" {
		return nil, nil
	}
	if cmd.Flags().Changed("nodes") {
		return nil, usageError(cmd, "takes --nodes or --config, not both: the config file lists the nodes (drop --nodes, or list %d nodes in %s)", o.nodes, o.config)
	}
	cfg, err := cluster.LoadConfig(o.config)
	if err != nil {
		return nil, err
	}
	return cfg.Nodes, nil
}

func newClusterServeCmd(env Env, o *clusterOptions) *cobra.Command {
	trim := true
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the cluster in the foreground until SIGTERM or SIGINT",
		Long: `Run the cluster's API server in the foreground, logging to standard error,
until SIGTERM or SIGINT; for systemd units and containers. "pkg cluster up"
runs this command in the background. For --config FILE, the cluster config
file giving each node its settings, see "pkg cluster up --help".`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nodes, err := o.nodeConfigs(cmd)
			if err != nil {
				return err
			}
			upstream, err := cluster.DNSUpstreams(o.dnsUpstream)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			log := slog.New(slog.NewTextHandler(env.Streams.Err, nil))
			return cluster.Run(cmd.Context(), cluster.Options{
				DataDir: o.dataDir, Address: o.address, Port: o.port, Nodes: o.nodes, NodeConfigs: nodes, Runtime: o.runtime, Logger: log,
				DNSUpstream: upstream, TrimStartupMemory: trim, UserspaceRelay: o.userspaceRelay,
			})
		},
	}
	o.addServeFlags(cmd)
	// Hidden: for measuring what the trim saves (bench/cluster.sh).
	cmd.Flags().BoolVar(&trim, "trim-startup-memory", true, "give back the memory only start-up needed, a few seconds after start")
	_ = cmd.Flags().MarkHidden("trim-startup-memory")
	return cmd
}

func newClusterUpCmd(env Env, o *clusterOptions) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "start the cluster in the background and write its kubeconfig",
		Long: `Start the cluster in the background ("pkg cluster serve" with the same
flags, logging to serve.log in the data dir), wait until it answers, and
write its kubeconfig.

--nodes N runs N alike virtual nodes, pkg-node-1..N. --config FILE runs the
nodes a cluster config file lists instead, each with its own settings
(--nodes and --config together are refused):

  apiVersion: pkg.dev/v1alpha1
  kind: Cluster
  runtime: auto            # of the nodes naming none (else --runtime)
  nodes:
  - name: db               # default pkg-node-<position, from 1>
    zone: zone-a           # label topology.kubernetes.io/zone
    region: eu             # label topology.kubernetes.io/region
    labels: {disktype: ssd}
    capacity: {cpu: "2", memory: 4Gi, pods: 50}
    taints: [{key: dedicated, value: db, effect: NoSchedule}]
    runtime: builtin       # auto, runc or builtin
  - {}                     # pkg-node-2: a share of this host, 110 Pods

Unknown fields and invalid values are refused, naming the line, the node
and the field. The server reads the file at each start: "pkg cluster down"
then "up" applies a changed file to the nodes it lists (labels, capacity,
taints, runtime); a node no longer listed stays registered and turns
NotReady, as when --nodes shrinks ("kubectl delete node NAME" removes it).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the pkg executable: %w", err)
			}
			dir, err := filepath.Abs(o.dataDir)
			if err != nil {
				return err
			}
			serve := []string{exe, "cluster", "serve", "--data-dir", dir, "--address", o.address,
				"--port", strconv.Itoa(o.port), "--runtime", o.runtime}
			// The file is checked here, where its mistakes can be
			// shown, and read again by the server from its absolute path.
			if _, err := o.nodeConfigs(cmd); err != nil {
				return err
			}
			// Checked here, where the mistake can be shown; "host" is
			// read again by the server at each start.
			if _, err := cluster.DNSUpstreams(o.dnsUpstream); err != nil {
				return usageError(cmd, "%v", err)
			}
			for _, u := range o.dnsUpstream {
				serve = append(serve, "--dns-upstream", u)
			}
			if o.userspaceRelay {
				serve = append(serve, "--userspace-relay")
			}
			if o.config != "" {
				path, err := filepath.Abs(o.config)
				if err != nil {
					return err
				}
				serve = append(serve, "--config", path)
			} else {
				serve = append(serve, "--nodes", strconv.Itoa(o.nodes))
			}
			st, err := cluster.Start(cmd.Context(), cluster.StartOptions{
				DataDir:  dir,
				Command:  serve,
				Timeout:  timeout,
				Progress: env.Streams.Err,
			})
			if err != nil {
				return err
			}
			path, err := writeClusterKubeconfig(env, dir, st.URL)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "pkg cluster is running on %s (pid %d, data dir %s).\n", st.URL, st.PID, dir)
			fmt.Fprintf(env.Streams.Out, "Its kubeconfig is %s. To use it:\n\n  export KUBECONFIG=%s\n  kubectl get ns\n", path, path)
			return nil
		},
	}
	o.addServeFlags(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", cluster.DefaultStartTimeout, "how long to wait for the cluster to answer")
	return cmd
}

// writeClusterKubeconfig writes the kubeconfig of the cluster in dir,
// serving at url, to its documented path with mode 0600.
func writeClusterKubeconfig(env Env, dir, url string) (string, error) {
	creds, err := cluster.LoadCredentials(dir)
	if err != nil {
		return "", err
	}
	data, err := cluster.Kubeconfig(url, creds)
	if err != nil {
		return "", err
	}
	path := clusterKubeconfig(env)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, nil
}

func newClusterDownCmd(env Env, o *clusterOptions) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "down",
		Short: "stop the cluster started by up",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cluster.Stop(cmd.Context(), o.dataDir, timeout, env.Streams.Err)
			if errors.Is(err, cluster.ErrNotRunning) {
				fmt.Fprintf(env.Streams.Out, "pkg cluster is not running (data dir %s).\n", o.dataDir)
				return nil
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the cluster to stop")
	return cmd
}

// clusterStatus is what `pkg cluster status` reports.
type clusterStatus struct {
	Running    bool      `json:"running"`
	PID        int       `json:"pid,omitempty"`
	URL        string    `json:"url,omitempty"`
	DataDir    string    `json:"dataDir"`
	Kubeconfig string    `json:"kubeconfig"`
	Nodes      int       `json:"nodes,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	Uptime     string    `json:"uptime,omitempty"`
}

func newClusterStatusCmd(env Env, o *clusterOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "say whether the cluster runs, its pid, address and uptime",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, running, err := cluster.Check(o.dataDir)
			if err != nil {
				return err
			}
			s := clusterStatus{Running: running, DataDir: o.dataDir, Kubeconfig: clusterKubeconfig(env)}
			if running {
				s.PID, s.URL, s.Nodes, s.StartedAt = st.PID, st.URL, st.Nodes, st.StartedAt
				if !st.StartedAt.IsZero() {
					s.Uptime = time.Since(st.StartedAt).Round(time.Second).String()
				}
			}
			return printClusterStatus(cmd, env, output, s)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "prints the output in the specified format. Allowed values: table, json, yaml")
	return cmd
}

func printClusterStatus(cmd *cobra.Command, env Env, output string, s clusterStatus) error {
	out := env.Streams.Out
	switch output {
	case "json":
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	case "table":
		state := "stopped"
		if s.Running {
			state = "running"
		}
		tw := tabwriter.NewWriter(out, 0, 8, 1, '\t', 0)
		fmt.Fprintf(tw, "STATUS:\t%s\n", state)
		if s.Running {
			fmt.Fprintf(tw, "PID:\t%d\nURL:\t%s\nUPTIME:\t%s\nNODES:\t%d (reserved)\n", s.PID, s.URL, s.Uptime, s.Nodes)
		}
		fmt.Fprintf(tw, "DATA DIR:\t%s\nKUBECONFIG:\t%s\n", s.DataDir, s.Kubeconfig)
		return tw.Flush()
	default:
		return usageError(cmd, "invalid format type %q: use table, json or yaml", output)
	}
}

func newClusterKubeconfigCmd(env Env, o *clusterOptions) *cobra.Command {
	var pathOnly bool
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "print the cluster's kubeconfig",
		Long: `Print the kubeconfig of the cluster: context, cluster and user all named
"pkg", the CA embedded, the bearer token. With --path, print only the path
"pkg cluster up" writes it to.`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			path := clusterKubeconfig(env)
			if pathOnly {
				_, err := fmt.Fprintln(env.Streams.Out, path)
				return err
			}
			creds, err := cluster.LoadCredentials(o.dataDir)
			if err != nil {
				return fmt.Errorf("%w: start it with \"pkg cluster up\"", err)
			}
			st, err := cluster.ReadState(o.dataDir)
			url := st.URL
			if err != nil || url == "" {
				url = cluster.URL(cluster.DefaultAddress, cluster.DefaultPort)
			}
			data, err := cluster.Kubeconfig(url, creds)
			if err != nil {
				return err
			}
			_, err = env.Streams.Out.Write(data)
			return err
		},
	}
	cmd.Flags().BoolVar(&pathOnly, "path", false, "print only the path of the kubeconfig")
	return cmd
}
