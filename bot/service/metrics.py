"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.deliveries = Counter(
            "migbot_deliveries_total",
            "Webhook deliveries by forge and outcome",
            ["forge", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "migbot_ack_seconds",
            "Time to answer a webhook delivery",
            ["forge"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.jobs = Counter(
            "migbot_jobs_total", "Jobs finished by outcome", ["outcome"], registry=r
        )
        self.job_seconds = Histogram(
            "migbot_job_seconds",
            "Time to run one review job",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.findings = Counter(
            "migbot_findings_total", "Findings reported by severity", ["severity"], registry=r
        )
        self.jobs_in_flight = Gauge(
            "migbot_jobs_in_flight", "Jobs this process is running", registry=r
        )
        self.queue_depth = Gauge(
            "migbot_queue_depth", "Review jobs waiting in the queue", registry=r
        )
        self.parked_jobs = Gauge(
            "migbot_parked_jobs", "Jobs parked after their last attempt failed", registry=r
        )
        self.oldest_queued_age = Gauge(
            "migbot_oldest_queued_job_age_seconds",
            "Age of the oldest job still waiting (0 when none waits)",
            registry=r,
        )
