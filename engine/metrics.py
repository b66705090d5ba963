"""Prometheus metrics and `/healthz` for `allegro-sync run` ([engine].metrics_port), on a registry of our own.

`Metrics.observe(report)` after every cycle counts the cycle, its events and commands and, when the metrics
were given a ledger, refreshes the outbox and cursor figures; cursor ages are computed at scrape time from
the stored times, so they keep growing between cycles. `serve(host, port)` starts a small threaded HTTP
server and returns a callable that stops it.

Metric names (all prefixed `allegro_sync_`):
  cycles_total{outcome}                 counter    cycles run, by outcome (ok, errors, stopped)
  cycle_duration_seconds                histogram  wall time of a cycle
  last_cycle_timestamp_seconds          gauge      when the last cycle started (Unix time)
  last_cycle_errors                     gauge      errors recorded by the last cycle
  events_in_total{stream}               counter    events appended, by stream or step
  commands_sent_total{kind}             counter    commands attempted, by kind
  commands{kind,status}                 gauge      the outbox now, by kind and status
  dead_commands                         gauge      commands given up (`commands list --failed`)
  cursor_age_seconds{cursor}            gauge      time since each cursor moved
  cursor_retention_used_ratio{cursor}   gauge      that age over the journal's retention (1 = past it)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, make_server

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from engine.ingest import RETENTION
from engine.settings_check import is_loopback

log = logging.getLogger("allegro_sync.metrics")

PREFIX = "allegro_sync"
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class HasAsDict(Protocol):
    def as_dict(self) -> Mapping[str, Any]: ...


class _CycleLedger(Protocol):
    def cursors(self) -> Iterable[Any]: ...

    def commands(self, *, statuses: Any = None) -> Iterable[Any]: ...


class _LedgerCollector(Collector):
    """Outbox and cursor figures from the last refresh; cursor ages computed now."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.cursors: dict[str, datetime] = {}
        self.commands: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterator[Metric]:
        cursors, commands, now = self.cursors, self.commands, self.clock()  # swapped whole, read once
        by_kind = GaugeMetricFamily(f"{PREFIX}_commands", "Commands in the outbox", labels=["kind", "status"])
        for (kind, status), count in sorted(commands.items()):
            by_kind.add_metric([kind, status], count)
        dead = GaugeMetricFamily(f"{PREFIX}_dead_commands", "Commands given up (commands list --failed)")
        dead.add_metric([], sum(n for (_, status), n in commands.items() if status == "dead"))
        age = GaugeMetricFamily(f"{PREFIX}_cursor_age_seconds", "Seconds since the cursor moved", labels=["cursor"])
        used = GaugeMetricFamily(
            f"{PREFIX}_cursor_retention_used_ratio",
            "Cursor age over its journal's retention (1 = past it)",
            labels=["cursor"],
        )
        for name, updated_at in sorted(cursors.items()):
            seconds = max(0.0, (now - updated_at).total_seconds())
            age.add_metric([name], seconds)
            if name in RETENTION:
                used.add_metric([name], seconds / RETENTION[name].total_seconds())
        yield from (by_kind, dead, age, used)


class Metrics:
    """The engine's metrics on their own `CollectorRegistry` (never the process-global one)."""

    def __init__(
        self,
        *,
        ledger: _CycleLedger | None = None,
        stale_after_seconds: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ledger = ledger
        self.stale_after_seconds = stale_after_seconds
        self.clock = clock
        self.last_cycle: dict[str, Any] | None = None
        self._last_seen: float | None = None
        r = self.registry
        self.cycles = Counter(f"{PREFIX}_cycles", "Cycles run, by outcome", ["outcome"], registry=r)
        self.duration = Histogram(
            f"{PREFIX}_cycle_duration_seconds", "Wall time of a cycle", buckets=DURATION_BUCKETS, registry=r
        )
        self.last_started = Gauge(f"{PREFIX}_last_cycle_timestamp_seconds", "Start of the last cycle", registry=r)
        self.last_errors = Gauge(f"{PREFIX}_last_cycle_errors", "Errors recorded by the last cycle", registry=r)
        self.events_in = Counter(f"{PREFIX}_events_in", "Events appended, by stream", ["stream"], registry=r)
        self.commands_sent = Counter(f"{PREFIX}_commands_sent", "Commands attempted, by kind", ["kind"], registry=r)
        self._ledger_figures = _LedgerCollector(clock)
        r.register(self._ledger_figures)

    # -------------------------------------------------------------------------------------------- recording

    def observe(self, report: HasAsDict | Mapping[str, Any]) -> None:
        """Count one cycle (the cycle's `CycleReport` or its `as_dict()`), then refresh the ledger figures."""
        data = dict(report) if isinstance(report, Mapping) else dict(report.as_dict())
        outcome = str(data.get("outcome") or "unknown")
        self.cycles.labels(outcome).inc()
        self.duration.observe(float(data.get("duration_seconds") or 0.0))
        started = _timestamp(data.get("started_at") or data.get("ts"))
        self.last_started.set(started if started is not None else time.time())
        self.last_errors.set(len(data.get("errors") or ()))
        for stream, count in (data.get("events_in") or {}).items():
            self.events_in.labels(stream).inc(count)
        for kind, count in (data.get("commands_out") or {}).items():
            self.commands_sent.labels(kind).inc(count)
        self.last_cycle = {"outcome": outcome, "started_at": data.get("started_at"), "stopped": data.get("stopped")}
        self._last_seen = time.monotonic()
        if self.ledger is not None:
            self.refresh(self.ledger)

    def refresh(self, ledger: _CycleLedger) -> None:
        """Read the outbox by kind and status, and each cursor's time (two small queries)."""
        by_kind = getattr(ledger, "command_counts_by_kind", None)
        if callable(by_kind):
            commands = dict(by_kind())
        else:
            commands = {}
            for c in ledger.commands():
                commands[(c.kind, c.status)] = commands.get((c.kind, c.status), 0) + 1
        cursors = {c.name: c.updated_at for c in ledger.cursors()}
        self._ledger_figures.commands, self._ledger_figures.cursors = commands, cursors

    # -------------------------------------------------------------------------------------------- health

    def health(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and body for `/healthz`: 200 while cycles run and the last did not stop the engine."""
        if self.last_cycle is None or self._last_seen is None:
            return 200, {"status": "starting"}
        since = time.monotonic() - self._last_seen
        body = {**self.last_cycle, "seconds_since_last_cycle": round(since, 1)}
        if self.last_cycle.get("stopped"):
            return 503, {"status": "stopped", **body}
        if since > self.stale_after_seconds:
            return 503, {"status": "stale", **body}
        return 200, {"status": "ok", **body}

    # -------------------------------------------------------------------------------------------- serving

    def wsgi_app(self) -> Callable[..., Iterable[bytes]]:
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz":
                code, body = self.health()
                reason = "OK" if code == 200 else "Service Unavailable"
                start_response(f"{code} {reason}", [("Content-Type", "application/json")])
                return [orjson.dumps(body, default=str)]
            result: Iterable[bytes] = metrics_app(environ, start_response)
            return result

        return app

    def serve(self, host: str, port: int) -> Served:
        """Serve `/metrics` (any other path too, as prometheus_client does) and `/healthz` in a daemon thread."""
        if not is_loopback(host):
            log.warning("metrics on %s:%s are reachable from the network and have no authentication", host, port)
        server = make_server(host, port, self.wsgi_app(), ThreadingWSGIServer, handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="allegro-sync-metrics", daemon=True)
        thread.start()
        served = Served(server, thread)
        log.info("metrics on http://%s:%s/metrics, health on /healthz", host, served.port)
        return served


class Served:
    """A running metrics server; call it to stop it (idempotent)."""

    def __init__(self, server: ThreadingWSGIServer, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread
        self.port: int = server.server_address[1]
        self._stopped = False

    def __call__(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (scrapes every 15 s would drown the cycle lines)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start(settings: Any, ledger: _CycleLedger | None) -> tuple[Metrics | None, Callable[[], None]]:
    """For `run`: the metrics and their server when `[engine].metrics_port` is set, else (None, no-op)."""
    engine = settings.engine
    if not engine.metrics_port:
        return None, lambda: None
    metrics = Metrics(ledger=ledger, stale_after_seconds=max(300.0, 5 * float(engine.poll_seconds)))
    if ledger is not None:
        metrics.refresh(ledger)
    return metrics, metrics.serve(engine.metrics_host, engine.metrics_port)


def _timestamp(value: object) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None
