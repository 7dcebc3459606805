// Package controllers holds the workload controllers of pkg's orchestrator:
// the loops that turn the workloads and Services stored in the API into
// Pods, ReplicaSets, Jobs, claims, Endpoints, EndpointSlices and status, as
// kube-controller-manager's controllers of the same names do.
//
// # How they run
//
// Run starts the controllers Options name against any Kubernetes API (the
// bundled server or a real one) through a rest.Config. They read through
// one set of client-go shared informers and write only through the API:
// objects through their main resource, status through the status
// subresource. Each controller has its own rate-limited work queue of
// namespace/name keys and a few workers; a key whose sync fails is retried
// with back-off while the others go on, so one bad object never stalls a
// controller. Events are recorded as core/v1 Events with the reasons and
// messages kube-controller-manager uses (SuccessfulCreate, ScalingReplicaSet
// and so on), through client-go's event broadcaster, which aggregates
// repeats.
//
// One write differs from kube-controller-manager's: the Deployment's
// revision annotation is set with a merge patch of the Deployment itself,
// since the bundled API server's status subresource keeps metadata as it
// is (kube-apiserver lets annotations through a status update).
//
// # What each one does
//
//   - ReplicaSet (replicaset.go): keeps spec.replicas Pods, adopting orphans
//     that match the selector and releasing Pods that stopped matching;
//     deletes the least useful Pods first (unscheduled, pending, not ready,
//     doubled up on a node, ready most recently, most restarted, newest);
//     writes replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas, observedGeneration and the ReplicaFailure
//     condition.
//   - Deployment (deployment*.go): ReplicaSets named NAME-HASH after
//     Kubernetes' pod-template-hash, RollingUpdate (maxSurge,
//     maxUnavailable, numbers and percentages) and Recreate, proportional
//     scaling, paused, minReadySeconds, revisionHistoryLimit, the revision
//     annotations that kubectl rollout history and undo read, and the
//     Progressing and Available conditions with progressDeadlineSeconds.
//   - Endpoints and EndpointSlice (endpoints.go, endpointslice.go,
//     services.go): one Endpoints object per Service with a selector and
//     EndpointSlices per address family and port mapping, ready and
//     not-ready addresses by the Pods' Ready condition, named target ports
//     resolved per Pod, and publishNotReadyAddresses.
//   - Job (job.go, job_indexed.go): completions, parallelism, the
//     NonIndexed and Indexed completion modes (completedIndexes, the index
//     annotation, label, hostname and JOB_COMPLETION_INDEX),
//     backoffLimit with doubling back-off, activeDeadlineSeconds, suspend
//     and resume, Pods counted through the
//     batch.kubernetes.io/job-tracking finalizer and
//     uncountedTerminatedPods, the FailureTarget, SuccessCriteriaMet,
//     Complete and Failed conditions and ttlSecondsAfterFinished;
//     podFailurePolicy (job_podfailurepolicy.go: FailJob, Ignore, Count,
//     FailIndex on exit codes and Pod conditions) and backoffLimitPerIndex
//     with maxFailedIndexes (job_perindex.go).
//   - CronJob (cronjob.go, cron.go): standard five-field schedules, the @
//     macros and @every, timeZone, concurrencyPolicy Allow, Forbid and
//     Replace, startingDeadlineSeconds, suspend, history limits, and missed
//     schedules handled as Kubernetes does (only the latest is started).
//     Options.Clock drives schedules and queue delays, so tests run them on
//     a fake clock.
//   - StatefulSet (statefulset*.go): Pods NAME-0..N-1 with hostname and
//     subdomain, one PVC per volumeClaimTemplate and ordinal, OrderedReady
//     and Parallel, scale-down from the highest ordinal, the PVC retention
//     policy, ControllerRevisions, RollingUpdate with partition, OnDelete.
//   - DaemonSet (daemonset.go): one Pod per node that matches the
//     template's node selector, required node affinity and taints (with
//     Kubernetes' added tolerations), pinned by node affinity for the
//     scheduler to bind; Pods follow nodes joining and leaving;
//     RollingUpdate with maxUnavailable and maxSurge, OnDelete.
//   - Disruption (disruption.go): PodDisruptionBudgets' status:
//     currentHealthy, desiredHealthy, expectedPods (from the Pods'
//     Deployment, ReplicaSet or StatefulSet for percentages and
//     maxUnavailable), disruptionsAllowed, expiring disruptedPods and the
//     DisruptionAllowed condition.
//   - HorizontalPodAutoscaler (hpa*.go): autoscaling/v2 against the
//     target's scale subresource, from the Pods' usage read through
//     metrics.k8s.io (hpa_metrics.go); Kubernetes' replica calculation
//     with its tolerance, missing and not-yet-ready Pods
//     (hpa_replicas.go); behavior's stabilization windows and rate
//     policies (hpa_behavior.go); status, the AbleToScale, ScalingActive
//     and ScalingLimited conditions and kube-controller-manager's Events.
//     Options.HPA shortens its periods for tests.
//
// Not here: evictions are the API server's, as are garbage collection and
// namespace deletion (orchestrator/apiserver/gc.go).
package controllers
