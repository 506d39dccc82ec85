"""Shared fixtures for the Weir Python interop suite.

Environment (set by tests/interop/run.sh):
  MLFLOW_TRACKING_URI    http://127.0.0.1:PORT of the server under test (required)
  MLFLOW_TRACKING_TOKEN  bearer token of the admin (optional: without it the
                         auth tests are skipped, or fail when WEIR_INTEROP_STRICT=1)
  WEIR_INTEROP_STRICT    "1": a test that would be skipped for a missing
                         token fails instead (run.sh sets it)
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pytest

# Keep the clients hermetic before any client module reads its configuration:
# no user Databricks/MLflow config, no telemetry, short retries.
# (a path that does not exist; nothing is created there)
os.environ["DATABRICKS_CONFIG_FILE"] = os.path.join(
    tempfile.gettempdir(), f"weir-interop-no-databrickscfg-{os.getpid()}", "databrickscfg"
)
for _var in (
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_AUTH_TYPE",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
):
    os.environ.pop(_var, None)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")

TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", "").rstrip("/")
TOKEN = os.environ.get("MLFLOW_TRACKING_TOKEN") or None
STRICT = os.environ.get("WEIR_INTEROP_STRICT") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if not TRACKING_URI.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise pytest.UsageError(
            "MLFLOW_TRACKING_URI must point at a loopback server, e.g. http://127.0.0.1:5000"
        )


# A module of APIs a stock `mlflow server` does not have (Unity Catalog, SQL, SCIM, serving...): run.sh sets
# WEIR_INTEROP_TARGET=weir for every Weir run.
WEIR_ONLY = pytest.mark.skipif(
    os.environ.get("WEIR_INTEROP_TARGET") != "weir",
    reason="Weir-only API (set WEIR_INTEROP_TARGET=weir)",
)


def workspace_client(token: str | None = None):
    """A databricks-sdk WorkspaceClient for the server under test, with PAT auth (the admin's token unless given one;
    PAT auth always needs a token, and against an auth-less server any value works)."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    return WorkspaceClient(
        config=Config(host=TRACKING_URI, token=token or TOKEN or "unused", auth_type="pat", retry_timeout_seconds=30)
    )


@pytest.fixture(scope="module")
def w():
    """The admin's databricks-sdk client (a module may override it, e.g. to require a token)."""
    return workspace_client()


def require_token() -> str:
    if TOKEN:
        return TOKEN
    if STRICT:
        pytest.fail("MLFLOW_TRACKING_TOKEN is not set but WEIR_INTEROP_STRICT=1")
    pytest.skip("no MLFLOW_TRACKING_TOKEN: server under test has no auth")
    raise AssertionError("unreachable")


def unique(prefix: str = "interop") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class HttpResult:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> object:
        return json.loads(self.body.decode("utf-8"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {raw}"}


def admin_headers() -> dict[str, str]:
    return bearer(TOKEN) if TOKEN else {}


def http(
    method: str,
    path: str,
    body: object | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResult:
    """Raw HTTP call to the server under test; never raises for HTTP errors."""
    data: bytes | None
    hdrs = dict(headers or {})
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(TRACKING_URI + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return HttpResult(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return HttpResult(err.code, err.read(), dict(err.headers or {}))


@pytest.fixture(autouse=True)
def _mlflow_tracking_uri():
    import mlflow

    mlflow.set_tracking_uri(TRACKING_URI)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run(status="FAILED")
