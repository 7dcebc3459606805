package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/internal/mount"
	"pkg.dev/pkg/orchestrator/runtime"
)

// maxBackoff caps the crash back-off, as the kubelet's.
const maxBackoff = 5 * time.Minute

// ctr is one container of a Pod as the worker runs it.
type ctr struct {
	spec     corev1.Container
	init     bool
	id       string
	restarts int32
	state    corev1.ContainerState
	last     corev1.ContainerState
	ready    bool
	started  bool
	rootfs   string
	image    ImageConfig
	prepared bool
	backoff  time.Duration
	// kill asks the supervisor to stop the running container (liveness).
	kill chan struct{}
	// hookFailed is why the running container was killed after its
	// postStart hook failed, for its terminated state's message.
	hookFailed string
}

// podWorker runs one Pod from start to deletion.
type podWorker struct {
	r   *PodRunner
	pod *corev1.Pod

	mu        sync.Mutex
	vols      map[string]volume
	ctrs      []*ctr
	podIP     string
	netns     string
	initDone  bool
	startTime metav1.Time
	phase     corev1.PodPhase
	message   string
	// reason is the Pod's status reason (Evicted); evicted says the
	// agent stopped it for memory pressure, leaving the Pod Failed.
	reason  string
	evicted bool

	stopOnce sync.Once
	stopCh   chan struct{}
	deleted  bool
	// grace is the deletion's grace period (deletionGracePeriodSeconds),
	// nil for the Pod's own terminationGracePeriodSeconds.
	grace *int64
	// killAt is when termination turns to SIGKILL, once it began; a
	// later, shorter grace period moves it earlier and closes regrace.
	killAt  time.Time
	regrace chan struct{}
	done    chan struct{}
	dirty   chan struct{}
}

func newPodWorker(r *PodRunner, p *corev1.Pod) *podWorker {
	w := &podWorker{r: r, pod: p.DeepCopy(), stopCh: make(chan struct{}), done: make(chan struct{}), dirty: make(chan struct{}, 1), phase: corev1.PodPending, regrace: make(chan struct{})}
	short := strings.ReplaceAll(string(p.UID), "-", "")
	if len(short) > 12 {
		short = short[:12]
	}
	for _, c := range p.Spec.InitContainers {
		w.ctrs = append(w.ctrs, &ctr{spec: c, init: true, id: short + "-" + c.Name, kill: make(chan struct{}, 1)})
	}
	for _, c := range p.Spec.Containers {
		w.ctrs = append(w.ctrs, &ctr{spec: c, id: short + "-" + c.Name, kill: make(chan struct{}, 1)})
	}
	w.startTime = metav1.NewTime(r.now())
	for _, c := range w.ctrs {
		reason := "ContainerCreating"
		if !c.init && len(p.Spec.InitContainers) > 0 {
			reason = "PodInitializing"
		}
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	return w
}

// stop ends the Pod's containers; deleted says the Pod is gone or being
// deleted, so its files go too, and grace (when not nil) is the grace
// period the deletion gave.
func (w *podWorker) stop(deleted bool, grace *int64) {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.deleted = deleted
		if grace != nil {
			g := *grace
			w.grace = &g
		}
		w.mu.Unlock()
		close(w.stopCh)
	})
}

// shorten applies a later delete's grace period when it ends termination
// sooner than the one under way, as the kubelet does.
func (w *podWorker) shorten(grace *int64) {
	if grace == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.grace != nil && *grace < *w.grace {
		g := *grace
		w.grace = &g
	}
	at := w.r.now().Add(max(time.Duration(*grace)*time.Second, minPreStopGrace))
	if !w.killAt.IsZero() && at.Before(w.killAt) {
		w.killAt = at
		close(w.regrace)
		w.regrace = make(chan struct{})
	}
}

func (w *podWorker) stopping() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return false
	}
}

func (w *podWorker) key() string { return w.pod.Namespace + "/" + w.pod.Name }

// markDirty asks the status pusher to write the Pod's status.
func (w *podWorker) markDirty() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

// run is the Pod's whole life on the node.
func (w *podWorker) run(ctx context.Context) {
	defer close(w.done)
	defer w.r.forget(w.pod.UID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.pushStatus(ctx)
	var wg sync.WaitGroup
	if err := w.setup(ctx); err != nil {
		w.r.log().Warn("setting up pod", "pod", w.key(), "err", err)
	} else if w.runInit(ctx) {
		w.mu.Lock()
		w.initDone = true
		w.mu.Unlock()
		w.markDirty()
		for _, c := range w.ctrs {
			if c.init {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.supervise(ctx, c)
			}()
		}
	}
	<-w.stopCh
	w.terminate(ctx)
	wg.Wait()
	w.cleanup(ctx)
}

// setup makes the Pod's directory, network and volumes.
func (w *podWorker) setup(ctx context.Context) error {
	dir := w.r.podDir(w.pod)
	if err := ensureDir(dir); err != nil {
		return err
	}
	if w.hostNetwork() {
		// On the host's network the Pod's address is the node's, so that
		// Endpoints list it and Services reach it.
		w.mu.Lock()
		w.podIP = w.r.hostIP()
		w.mu.Unlock()
	} else {
		ns, ip, err := w.r.Network.Setup(ctx, string(w.pod.UID))
		if err != nil {
			w.failAll("CreateContainerConfigError", err.Error())
			w.event(ctx, corev1.EventTypeWarning, "FailedCreatePodSandBox", fmt.Sprintf("Failed to create pod sandbox: %v", err))
			return err
		}
		w.mu.Lock()
		w.netns, w.podIP = ns, ip
		w.mu.Unlock()
	}
	w.markDirty()
	lastErr := ""
	for {
		vols, err := prepareVolumes(ctx, w.r.Client, w.pod, dir)
		if err == nil {
			w.mu.Lock()
			w.vols = vols
			w.mu.Unlock()
			go refreshTokens(ctx, w.r.Client, w.pod, vols, w.stopCh, w.r.log().Warn)
			return nil
		}
		retry := w.backoffBase()
		var mw *mountWait
		if errors.As(err, &mw) {
			// A claim being bound: keep ContainerCreating and look again
			// soon, as the kubelet's volume manager does.
			w.failAll("ContainerCreating", "")
			retry = min(retry, time.Second)
		} else {
			w.failAll("CreateContainerConfigError", err.Error())
		}
		if err.Error() != lastErr {
			w.event(ctx, corev1.EventTypeWarning, "FailedMount", err.Error())
			lastErr = err.Error()
		}
		select {
		case <-w.stopCh:
			return err
		case <-time.After(retry):
		}
	}
}

// failAll sets every container waiting with reason and message.
func (w *podWorker) failAll(reason, msg string) {
	w.mu.Lock()
	for _, c := range w.ctrs {
		if c.state.Running == nil {
			c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
		}
	}
	w.mu.Unlock()
	w.markDirty()
}

func (w *podWorker) backoffBase() time.Duration {
	if w.r.BackoffBase > 0 {
		return w.r.BackoffBase
	}
	return 10 * time.Second
}

// runInit runs the init containers one after another, each to success;
// it reports false when the Pod failed or is stopping.
func (w *podWorker) runInit(ctx context.Context) bool {
	for _, c := range w.ctrs {
		if !c.init {
			continue
		}
		for {
			if w.stopping() {
				return false
			}
			st, err := w.runOnce(ctx, c)
			if err == nil && st.Code == 0 && !st.Unknown {
				break
			}
			if w.pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				w.mu.Lock()
				w.phase = corev1.PodFailed
				w.mu.Unlock()
				w.markDirty()
				return false
			}
			if !w.wait(ctx, c) {
				return false
			}
		}
	}
	return true
}

// supervise runs an app container, restarting it as the Pod's restart
// policy says, with the crash back-off.
func (w *podWorker) supervise(ctx context.Context, c *ctr) {
	probes := context.Background()
	for !w.stopping() {
		started := w.r.now()
		pctx, stopProbes := context.WithCancel(probes)
		st, err := w.runOnceProbed(ctx, pctx, c)
		stopProbes()
		if w.stopping() {
			return
		}
		restart := false
		switch w.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
		case corev1.RestartPolicyOnFailure:
			restart = err != nil || st.Code != 0
		default:
			restart = true
		}
		if !restart {
			w.settle()
			return
		}
		if w.r.now().Sub(started) > 10*time.Minute {
			c.backoff = 0 // it ran long enough: the back-off starts over
		}
		if !w.wait(ctx, c) {
			return
		}
	}
}

// settle sets the Pod's phase once no container will run again.
func (w *podWorker) settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	allDone, failed := true, false
	for _, c := range w.ctrs {
		if c.init {
			continue
		}
		if c.state.Terminated == nil {
			allDone = false
			continue
		}
		if c.state.Terminated.ExitCode != 0 {
			failed = true
		}
	}
	if allDone {
		w.phase = corev1.PodSucceeded
		if failed {
			w.phase = corev1.PodFailed
		}
	}
	w.markDirty()
}

// wait sleeps the container's back-off, showing CrashLoopBackOff; false
// when the Pod is stopping.
func (w *podWorker) wait(ctx context.Context, c *ctr) bool {
	w.mu.Lock()
	if c.backoff == 0 {
		c.backoff = w.backoffBase()
	} else {
		c.backoff = min(2*c.backoff, maxBackoff)
	}
	d := c.backoff
	// As the kubelet: a container that ran and ended backs off as
	// CrashLoopBackOff; one whose image could not be pulled as
	// ImagePullBackOff; one that could not be created keeps its reason.
	event := ""
	switch {
	case c.state.Terminated != nil:
		c.last = c.state
		msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", d, c.spec.Name, w.pod.Name, w.pod.Namespace, w.pod.UID)
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: msg}}
		event = fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", c.spec.Name, w.pod.Name, w.pod.Namespace, w.pod.UID)
	case c.state.Waiting != nil && (c.state.Waiting.Reason == "ErrImagePull" || c.state.Waiting.Reason == "ImagePullBackOff"):
		msg := fmt.Sprintf("Back-off pulling image %q", c.spec.Image)
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: msg}}
		event = msg
	}
	w.mu.Unlock()
	w.markDirty()
	if event != "" {
		w.event(ctx, corev1.EventTypeWarning, "BackOff", event)
	}
	select {
	case <-w.stopCh:
		return false
	case <-time.After(d):
		return true
	}
}

// runOnceProbed is runOnce with the container's probes running while it
// runs.
func (w *podWorker) runOnceProbed(ctx, probes context.Context, c *ctr) (runtime.ExitStatus, error) {
	return w.run1(ctx, c, func() { go w.probe(probes, c) })
}

func (w *podWorker) runOnce(ctx context.Context, c *ctr) (runtime.ExitStatus, error) {
	return w.run1(ctx, c, nil)
}

// run1 prepares, starts and waits for one run of a container, recording
// its states and Events.
func (w *podWorker) run1(ctx context.Context, c *ctr, onStart func()) (runtime.ExitStatus, error) {
	spec, err := w.containerSpec(ctx, c)
	if err != nil {
		reason := "CreateContainerConfigError"
		var ce *configError
		if !errors.As(err, &ce) {
			reason = "ErrImagePull"
		}
		w.mu.Lock()
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: err.Error()}}
		w.mu.Unlock()
		w.markDirty()
		w.event(ctx, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return runtime.ExitStatus{}, err
	}
	_ = w.r.Runtime.Remove(ctx, c.id)
	w.mu.Lock()
	if c.started {
		c.restarts++ // as the kubelet counts: one more start of a container that ran
	}
	w.mu.Unlock()
	logDir := filepath.Dir(LogPath(w.r.Dir, w.pod.UID, c.spec.Name, c.restarts))
	if err := ensureDir(logDir); err != nil {
		return runtime.ExitStatus{}, err
	}
	f, err := os.OpenFile(LogPath(w.r.Dir, w.pod.UID, c.spec.Name, c.restarts), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return runtime.ExitStatus{}, err
	}
	defer f.Close()
	var mu sync.Mutex
	stdout := &logWriter{mu: &mu, f: f, stream: "stdout", now: w.r.now}
	stderr := &logWriter{mu: &mu, f: f, stream: "stderr", now: w.r.now}
	spec.Stdout, spec.Stderr = stdout, stderr
	if err := w.r.Runtime.Start(ctx, c.id, spec); err != nil {
		var se *runtime.StartError
		if errors.As(err, &se) {
			// As the kubelet reports a process that never ran (a command
			// not in the image): terminated with 128 and StartError, then
			// restarted with back-off by the restart policy.
			w.mu.Lock()
			c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 128, Reason: "StartError", Message: se.Msg,
				StartedAt: metav1.NewTime(time.Unix(0, 0).UTC()), FinishedAt: metav1.NewTime(w.r.now()),
				ContainerID: w.r.Runtime.Name() + "://" + c.id,
			}}
			c.started = true
			c.ready = false
			w.mu.Unlock()
			w.markDirty()
			w.event(ctx, corev1.EventTypeWarning, "Failed", "Error: "+se.Msg)
			return runtime.ExitStatus{Code: 128}, nil
		}
		w.mu.Lock()
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}}
		w.mu.Unlock()
		w.markDirty()
		w.event(ctx, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return runtime.ExitStatus{}, err
	}
	startedAt := metav1.NewTime(w.r.now())
	w.mu.Lock()
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: startedAt}}
	c.started = true
	c.ready = c.spec.ReadinessProbe == nil && c.spec.StartupProbe == nil && !c.init
	// Termination began while this container was being started, so
	// terminate did not see it running: it is stopped here, with the
	// same grace, or the Pod would never finish terminating.
	late, deadline := !w.killAt.IsZero(), w.killAt
	w.mu.Unlock()
	w.markDirty()
	if late {
		go w.stopContainer(ctx, c, deadline)
	}
	w.event(ctx, corev1.EventTypeNormal, "Created", "Created container: "+c.spec.Name)
	w.event(ctx, corev1.EventTypeNormal, "Started", "Started container "+c.spec.Name)
	w.postStart(ctx, c)
	if onStart != nil {
		onStart()
	}
	st, err := w.r.Runtime.Wait(ctx, c.id)
	stdout.flush()
	stderr.flush()
	reason := "Completed"
	switch {
	case st.OOMKilled:
		reason = "OOMKilled"
	case st.Code != 0:
		reason = "Error"
	}
	w.mu.Lock()
	c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: int32(st.Code), Signal: int32(st.Signal), Reason: reason, StartedAt: startedAt,
		FinishedAt: metav1.NewTime(w.r.now()), ContainerID: w.r.Runtime.Name() + "://" + c.id, Message: c.hookFailed,
	}}
	c.hookFailed = ""
	c.ready = false
	w.mu.Unlock()
	w.markDirty()
	return st, err
}

// containerSpec prepares the image and builds what the runtime runs.
func (w *podWorker) containerSpec(ctx context.Context, c *ctr) (runtime.ContainerSpec, error) {
	if !c.prepared {
		c.rootfs = filepath.Join(w.r.podDir(w.pod), "containers", c.spec.Name, "rootfs")
		_ = mount.RemoveAll(c.rootfs)
		if err := os.MkdirAll(c.rootfs, 0o755); err != nil {
			return runtime.ContainerSpec{}, err
		}
		secrets := w.pullSecrets(ctx)
		policy := c.spec.ImagePullPolicy
		w.event(ctx, corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.spec.Image))
		start := w.r.now()
		img, err := w.r.Images.Prepare(ctx, c.spec.Image, policy, secrets, c.rootfs)
		if err != nil {
			return runtime.ContainerSpec{}, fmt.Errorf("failed to pull image %q: %w", c.spec.Image, err)
		}
		w.event(ctx, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s", c.spec.Image, w.r.now().Sub(start).Round(time.Millisecond)))
		c.image, c.prepared = img, true
	}
	w.mu.Lock()
	podIP, netns, vols := w.podIP, w.netns, w.vols
	w.mu.Unlock()
	env, err := envOf(ctx, w.r.Client, w.pod, &c.spec, c.image.Env, podIP)
	if err != nil {
		return runtime.ContainerSpec{}, err
	}
	args := commandOf(&c.spec, c.image, env)
	if len(args) == 0 {
		return runtime.ContainerSpec{}, &configError{"no command specified"}
	}
	mounts, err := mountsOf(&c.spec, vols)
	if err != nil {
		return runtime.ContainerSpec{}, err
	}
	cwd := c.spec.WorkingDir
	if cwd == "" {
		cwd = c.image.WorkingDir
	}
	var uid, gid uint32
	if sc := w.pod.Spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = uint32(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			gid = uint32(*sc.RunAsGroup)
		}
	}
	if sc := c.spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = uint32(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			gid = uint32(*sc.RunAsGroup)
		}
	}
	res := runtime.Resources{PidsLimit: 4096}
	if q, ok := c.spec.Resources.Limits[corev1.ResourceMemory]; ok {
		res.MemoryLimit = q.Value()
	}
	if q, ok := c.spec.Resources.Limits[corev1.ResourceCPU]; ok {
		res.CPULimitMilli = q.MilliValue()
	}
	if q, ok := c.spec.Resources.Requests[corev1.ResourceCPU]; ok {
		res.CPURequestMilli = q.MilliValue()
	}
	if conf := w.resolvConf(); conf != "" {
		path := filepath.Join(w.r.podDir(w.pod), "resolv.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err == nil {
			mounts = append(mounts, runtime.Mount{Source: path, Destination: "/etc/resolv.conf", ReadOnly: true})
		}
	}
	hosts := filepath.Join(w.r.podDir(w.pod), "etc-hosts")
	if err := os.WriteFile(hosts, []byte(fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", orLoopback(podIP), w.pod.Name)), 0o644); err == nil {
		mounts = append(mounts, runtime.Mount{Source: hosts, Destination: "/etc/hosts"})
	}
	return runtime.ContainerSpec{
		Rootfs: c.rootfs, Args: args, Env: env, Cwd: cwd, UID: uid, GID: gid,
		Hostname: w.pod.Name, Mounts: mounts, NetNS: netns, Resources: res,
		// Without a cluster network (host-network mode), and for
		// spec.hostNetwork, the Pod is on the host's network.
		HostNetwork: w.hostNetwork(),
	}, nil
}

// hostNetwork tells whether the Pod runs on the host's network: asked
// for by spec.hostNetwork, or the node has no cluster network.
func (w *podWorker) hostNetwork() bool {
	return w.r.Network == nil || w.pod.Spec.HostNetwork
}

func orLoopback(ip string) string {
	if ip == "" {
		return "127.0.0.1"
	}
	return ip
}

// pullSecrets reads the Pod's imagePullSecrets' .dockerconfigjson.
func (w *podWorker) pullSecrets(ctx context.Context) [][]byte {
	var out [][]byte
	for _, ref := range w.pod.Spec.ImagePullSecrets {
		s, err := w.r.Client.CoreV1().Secrets(w.pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if b, ok := s.Data[corev1.DockerConfigJsonKey]; ok {
			out = append(out, b)
		}
	}
	return out
}

// terminate stops the running containers as the kubelet does: each
// container's preStop hook, then SIGTERM, then SIGKILL once the grace
// period (the deletion's, else the Pod's terminationGracePeriodSeconds)
// has passed since termination began. As the kubelet's, the grace period
// is at least two seconds (a forced delete's 0 too), a preStop hook that
// used it up leaves the container two more seconds, and a later delete
// with a shorter grace period brings SIGKILL forward.
func (w *podWorker) terminate(ctx context.Context) {
	grace := 30 * time.Second
	if g := w.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	w.mu.Lock()
	if w.grace != nil {
		grace = time.Duration(*w.grace) * time.Second
	}
	grace = max(grace, minPreStopGrace)
	deadline := w.r.now().Add(grace)
	w.killAt = deadline
	// Which containers run is read in the same critical section that
	// sets killAt: a container that run1 starts after this stops itself
	// (see run1), so none is missed and none is stopped twice.
	var running []*ctr
	for _, c := range w.ctrs {
		if c.state.Running != nil {
			running = append(running, c)
		}
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stopContainer(ctx, c, deadline)
		}()
	}
	wg.Wait()
}

// stopContainer ends one running container of a terminating Pod: its
// preStop hook, SIGTERM, then SIGKILL at killAt (which a shorter grace
// period may bring forward), and returns once it exited.
func (w *podWorker) stopContainer(ctx context.Context, c *ctr, deadline time.Time) {
	w.event(ctx, corev1.EventTypeNormal, "Killing", "Stopping container "+c.spec.Name)
	if hook(&c.spec, false) != nil {
		w.preStop(ctx, c, deadline)
	}
	_ = w.r.Runtime.Signal(ctx, c.id, syscall.SIGTERM)
	termAt := w.r.now()
	exited := make(chan struct{})
	go func() {
		_, _ = w.r.Runtime.Wait(ctx, c.id)
		close(exited)
	}()
	for {
		w.mu.Lock()
		killAt, regrace := w.killAt, w.regrace
		w.mu.Unlock()
		if floor := termAt.Add(minPreStopGrace); killAt.Before(floor) {
			killAt = floor
		}
		select {
		case <-exited:
			return
		case <-regrace:
			continue
		case <-time.After(killAt.Sub(w.r.now())):
		}
		_ = w.r.Runtime.Signal(ctx, c.id, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		return
	}
}

// cleanup removes the containers, the network and, for a deleted Pod,
// its files.
func (w *podWorker) cleanup(ctx context.Context) {
	for _, c := range w.ctrs {
		_ = w.r.Runtime.Remove(ctx, c.id)
		if c.rootfs != "" {
			// An overlay root filesystem is not left mounted on the host,
			// even when the Pod stays (the agent stopping).
			if err := mount.Unmount(c.rootfs); err != nil {
				w.r.log().Warn("unmounting a container's root filesystem", "pod", w.key(), "container", c.spec.Name, "err", err)
			}
		}
	}
	w.mu.Lock()
	ip, deleted := w.podIP, w.deleted
	w.mu.Unlock()
	if !w.hostNetwork() && ip != "" {
		if err := w.r.Network.Teardown(ctx, string(w.pod.UID), ip); err != nil {
			w.r.log().Warn("tearing down pod network", "pod", w.key(), "err", err)
		}
	}
	if deleted {
		_ = mount.RemoveAll(w.r.podDir(w.pod))
		w.mu.Lock()
		evicted := w.evicted
		w.mu.Unlock()
		if evicted {
			// The Pod stays, Failed: its last status is written now.
			if err := w.writeStatus(ctx); err != nil {
				w.r.log().Warn("writing an evicted pod's status", "pod", w.key(), "err", err)
			}
			return
		}
		w.r.finishDeletion(ctx, w.pod)
		return
	}
	// The agent is stopping: the Pod stays, its containers stopped.
}

// event records an Event about the Pod from the node agent.
func (w *podWorker) event(ctx context.Context, typ, reason, msg string) {
	now := metav1.NewTime(w.r.now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: w.pod.Name + ".", Namespace: w.pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: w.pod.Namespace, Name: w.pod.Name, UID: w.pod.UID,
		},
		Reason: reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: "kubelet", Host: w.r.Node},
		ReportingController: "kubelet", ReportingInstance: w.r.Node,
	}
	if _, err := w.r.Client.CoreV1().Events(w.pod.Namespace).Create(context.WithoutCancel(ctx), ev, metav1.CreateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		w.r.log().Debug("recording event", "pod", w.key(), "err", err)
	}
}

// resolvConf is the Pod's /etc/resolv.conf as the kubelet writes it for
// its dnsPolicy and dnsConfig: the cluster DNS and its search path for
// ClusterFirst (the default), the host's for Default, only dnsConfig for
// None. "" keeps the image's file.
func (w *podWorker) resolvConf() string {
	domain := w.r.Domain
	if domain == "" {
		domain = "cluster.local"
	}
	var servers, searches, options []string
	switch w.pod.Spec.DNSPolicy {
	case corev1.DNSDefault:
		b, err := os.ReadFile("/etc/resolv.conf")
		if err != nil {
			return ""
		}
		return string(b)
	case corev1.DNSNone:
	default:
		if w.r.DNS == "" {
			return ""
		}
		ns := w.pod.Namespace
		servers = []string{w.r.DNS}
		searches = []string{ns + ".svc." + domain, "svc." + domain, domain}
		options = []string{"ndots:5"}
	}
	if c := w.pod.Spec.DNSConfig; c != nil {
		servers = append(servers, c.Nameservers...)
		searches = append(searches, c.Searches...)
		for _, o := range c.Options {
			if o.Value != nil {
				options = append(options, o.Name+":"+*o.Value)
			} else {
				options = append(options, o.Name)
			}
		}
	}
	var b strings.Builder
	if len(searches) > 0 {
		b.WriteString("search " + strings.Join(searches, " ") + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String()
}
