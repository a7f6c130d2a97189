"""Jobs that outlive a request: named locks across replicas, periodic jobs, background jobs with a lease."""

from shared.jobs.background import JobLease, fail_abandoned
from shared.jobs.locks import AdvisoryLock, holding, probe_free
from shared.jobs.periodic import PeriodicJob, PeriodicRunner

__all__ = ["AdvisoryLock", "JobLease", "PeriodicJob", "PeriodicRunner", "fail_abandoned", "holding", "probe_free"]
