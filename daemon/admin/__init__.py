"""The admin HTTP server: health for supervisors, metrics for Prometheus, a status page and a
read-only JSON API for people, all served by the daemon's own event loop."""

from daemon.admin.server import AdminServer, Service

__all__ = ["AdminServer", "Service"]
