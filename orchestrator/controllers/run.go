package controllers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Names of the controllers, as Options.Controllers takes them (and as
// kube-controller-manager's --controllers flag names them).
const (
	// ReplicaSetController keeps the Pods of ReplicaSets.
	ReplicaSetController = "replicaset"
	// DeploymentController rolls Deployments through ReplicaSets.
	DeploymentController = "deployment"
	// EndpointsController writes the Endpoints of Services.
	EndpointsController = "endpoints"
	// EndpointSliceController writes the EndpointSlices of Services.
	EndpointSliceController = "endpointslice"
	// JobController runs Jobs to completion.
	JobController = "job"
	// CronJobController starts Jobs on schedules.
	CronJobController = "cronjob"
	// StatefulSetController keeps StatefulSets' ordered Pods and claims.
	StatefulSetController = "statefulset"
	// DaemonSetController keeps one Pod of each DaemonSet per matching node.
	DaemonSetController = "daemonset"
	// DisruptionController keeps the status of PodDisruptionBudgets.
	DisruptionController = "disruption"
	// HPAController scales the targets of HorizontalPodAutoscalers.
	HPAController = "horizontalpodautoscaling"
	// ServiceAccountController keeps the ServiceAccount "default" and,
	// with Options.RootCA, the ConfigMap kube-root-ca.crt in every
	// namespace (kube-controller-manager's serviceaccount and
	// root-ca-cert-publisher).
	ServiceAccountController = "serviceaccount"
)

// AllControllers lists every controller Run knows, in start order.
func AllControllers() []string {
	return []string{ReplicaSetController, DeploymentController, EndpointsController, EndpointSliceController, JobController, CronJobController, StatefulSetController, DaemonSetController, DisruptionController, HPAController, ServiceAccountController}
}

// Defaults of Options.
const (
	// DefaultWorkers is the number of workers of each controller.
	DefaultWorkers = 2
	// DefaultResync is how often the informers replay their caches.
	DefaultResync = 10 * time.Minute
	// DefaultQPS and DefaultBurst limit the controllers' requests when
	// the rest.Config sets no QPS.
	DefaultQPS   = 100
	DefaultBurst = 200
)

// RESTConfig returns the client configuration for a server at url that
// presents a certificate of the CA in caPEM and accepts token, as
// orchestrator/cluster serves it.
func RESTConfig(url string, caPEM []byte, token string) *rest.Config {
	return &rest.Config{
		Host:            url,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		QPS:             DefaultQPS,
		Burst:           DefaultBurst,
	}
}

// Options configure Run.
type Options struct {
	// Logger receives the controllers' messages; discarded when nil.
	Logger *slog.Logger
	// Clock gives the time used for availability, deadlines, schedules
	// and the work queues' delays; the real clock when nil. Tests of
	// CronJobs inject a k8s.io/utils/clock/testing.FakeClock.
	Clock clock.WithTicker
	// Controllers names the controllers to run (the constants above);
	// all of them when empty.
	Controllers []string
	// Workers is the number of concurrent syncs per controller;
	// DefaultWorkers when 0.
	Workers int
	// Resync is the informers' resync period; DefaultResync when 0.
	Resync time.Duration
	// JobBackoff is the first delay before a failed Job Pod is replaced,
	// doubled per failure up to six minutes; ten seconds, as Kubernetes,
	// when 0.
	JobBackoff time.Duration
	// HPA tunes the HorizontalPodAutoscaler controller.
	HPA HPAOptions
	// RootCA is the PEM of the CA that signed the API server's
	// certificate, published in every namespace as kube-root-ca.crt;
	// the rest.Config's CAData when nil.
	RootCA []byte
}

// env is what every controller shares.
type env struct {
	client  kubernetes.Interface
	factory informers.SharedInformerFactory
	log     *slog.Logger
	now     func() time.Time
	clock   clock.WithTicker
	workers int
	events  record.EventBroadcaster
	ctx     context.Context
}

// recorder returns an event recorder that signs as component. Once Run
// is stopping it records nothing: the failures it would report are the
// shutdown's own.
func (e *env) recorder(component string) record.EventRecorder {
	return quietRecorder{e.events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component}), e.ctx}
}

// quietRecorder drops events once ctx is done.
type quietRecorder struct {
	record.EventRecorder
	ctx context.Context
}

func (r quietRecorder) Event(obj runtime.Object, typ, reason, msg string) {
	if r.ctx.Err() == nil {
		r.EventRecorder.Event(obj, typ, reason, msg)
	}
}

func (r quietRecorder) Eventf(obj runtime.Object, typ, reason, msgFmt string, args ...any) {
	if r.ctx.Err() == nil {
		r.EventRecorder.Eventf(obj, typ, reason, msgFmt, args...)
	}
}

// starter is a controller ready to run: it has registered its informers
// and runs its workers until ctx is done.
type starter interface {
	run(ctx context.Context)
}

// Run runs the controllers against the API cfg points at until ctx is
// done. It fails only when the options name an unknown controller, the
// client cannot be built, or the informers' caches never fill.
func Run(ctx context.Context, cfg *rest.Config, opts Options) error {
	names := opts.Controllers
	if len(names) == 0 {
		names = AllControllers()
	}
	for _, n := range names {
		if !slices.Contains(AllControllers(), n) {
			return fmt.Errorf("controllers: unknown controller %q; known are %v", n, AllControllers())
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	resync := opts.Resync
	if resync <= 0 {
		resync = DefaultResync
	}
	c := rest.CopyConfig(cfg)
	if c.UserAgent == "" {
		c.UserAgent = "kube-controller-manager/pkg"
	}
	if c.QPS == 0 {
		// client-go's default of 5 per second would pace every rollout.
		c.QPS, c.Burst = DefaultQPS, DefaultBurst
	}
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		return fmt.Errorf("controllers: building the API client: %w", err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	e := &env{
		client:  client,
		factory: informers.NewSharedInformerFactory(client, resync),
		log:     log,
		now:     clk.Now,
		clock:   clk,
		workers: workers,
		events:  broadcaster,
		ctx:     ctx,
	}
	var ctrls []starter
	for _, n := range names {
		switch n {
		case ReplicaSetController:
			ctrls = append(ctrls, newReplicaSetController(e))
		case DeploymentController:
			ctrls = append(ctrls, newDeploymentController(e))
		case EndpointsController:
			ctrls = append(ctrls, newEndpointsController(e))
		case EndpointSliceController:
			ctrls = append(ctrls, newEndpointSliceController(e))
		case JobController:
			ctrls = append(ctrls, newJobController(e, opts.JobBackoff))
		case CronJobController:
			ctrls = append(ctrls, newCronJobController(e))
		case StatefulSetController:
			ctrls = append(ctrls, newStatefulSetController(e))
		case DaemonSetController:
			ctrls = append(ctrls, newDaemonSetController(e))
		case DisruptionController:
			ctrls = append(ctrls, newDisruptionController(e))
		case HPAController:
			ctrls = append(ctrls, newHPAController(e, opts.HPA))
		case ServiceAccountController:
			rootCA := opts.RootCA
			if rootCA == nil {
				rootCA = cfg.TLSClientConfig.CAData
			}
			ctrls = append(ctrls, newNamespaceDefaults(e, rootCA))
		}
	}
	e.factory.Start(ctx.Done())
	defer e.factory.Shutdown()
	for typ, ok := range e.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("controllers: the informer cache of %v never synced", typ)
		}
	}
	log.Info("controllers started", "controllers", names, "workers", workers)
	var wg sync.WaitGroup
	for _, c := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx)
		}()
	}
	wg.Wait()
	log.Info("controllers stopped")
	return nil
}

// keyOf returns the namespace/name key of an informer object, tombstones
// included.
func keyOf(obj any) (string, bool) {
	k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	return k, err == nil
}
