"""Weir's Databricks-style identity APIs: personal access tokens, SCIM users, experiment ACLs.

Stock MLflow has none of these, so this module runs only against Weir
(WEIR_INTEROP_TARGET=weir, set by tests/interop/run.sh).

Assumed semantics (from the Weir server spec):
- POST /api/2.0/token/create {"comment","lifetime_seconds"} -> {"token_value","token_info"} for the caller.
- POST /api/2.0/preview/scim/v2/Users {"userName","password"} (admins only) creates a user who can
  authenticate with Basic userName:password.
- PATCH /api/2.0/permissions/experiments/{id} with CAN_READ lets that user read the experiment but not write it.
"""

from __future__ import annotations

import uuid

from conftest import TRACKING_URI, WEIR_ONLY, basic, bearer, http, require_token, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service.ml import ExperimentAccessControlRequest, ExperimentPermissionLevel

pytestmark = WEIR_ONLY


def _client(token: str) -> WorkspaceClient:
    return WorkspaceClient(
        config=Config(host=TRACKING_URI, token=token, auth_type="pat", retry_timeout_seconds=30)
    )


def test_token_create_and_use() -> None:
    admin = _client(require_token())
    created = admin.tokens.create(comment="interop token", lifetime_seconds=3600)
    assert created.token_value
    assert created.token_info is not None
    assert created.token_info.comment == "interop token"
    assert created.token_info.token_id

    res = http("GET", "/api/2.0/mlflow/experiments/search?max_results=1", headers=bearer(created.token_value))
    assert res.status == 200, res.body[:300]

    # the new token works for a write through an SDK client too
    w = _client(created.token_value)
    name = unique("token-exp")
    exp_id = w.experiments.create_experiment(name=name).experiment_id
    got = w.experiments.get_experiment(exp_id).experiment
    assert got is not None and got.name == name


def test_scim_user_with_can_read_permission() -> None:
    admin_token = require_token()
    admin = _client(admin_token)
    user = unique("user") + "@example.com"
    password = "Pw-" + uuid.uuid4().hex

    res = http(
        "POST",
        "/api/2.0/preview/scim/v2/Users",
        {"userName": user, "password": password},
        headers=bearer(admin_token),
    )
    assert res.status in (200, 201), (res.status, res.body[:300])
    body = res.json()
    assert isinstance(body, dict)
    assert body.get("userName") == user
    assert body.get("id")

    # the new user signs in with Basic user:password and creates a token for itself
    res = http(
        "POST",
        "/api/2.0/token/create",
        {"comment": "user token", "lifetime_seconds": 3600},
        headers=basic(user, password),
    )
    assert res.status == 200, (res.status, res.body[:300])
    user_token = res.json()["token_value"]  # type: ignore[index]
    assert user_token

    # a non-admin may not create users
    res = http(
        "POST",
        "/api/2.0/preview/scim/v2/Users",
        {"userName": unique("nope") + "@example.com"},
        headers=bearer(user_token),
    )
    assert res.status == 403, (res.status, res.body[:300])

    # admin's experiment with one run
    name = unique("acl-exp")
    exp_id = admin.experiments.create_experiment(name=name).experiment_id
    run = admin.experiments.create_run(experiment_id=exp_id, run_name="owned-by-admin").run
    assert run is not None and run.info is not None
    run_id = run.info.run_id

    perms = admin.experiments.update_permissions(
        experiment_id=exp_id,
        access_control_list=[
            ExperimentAccessControlRequest(
                user_name=user, permission_level=ExperimentPermissionLevel.CAN_READ
            )
        ],
    )
    granted = {
        (acl.user_name, p.permission_level.value if p.permission_level else None)
        for acl in perms.access_control_list or []
        for p in acl.all_permissions or []
    }
    assert (user, "CAN_READ") in granted, granted

    # the user can read ...
    reader = _client(user_token)
    got = reader.experiments.get_experiment(exp_id).experiment
    assert got is not None and got.name == name
    got_run = reader.experiments.get_run(run_id).run
    assert got_run is not None and got_run.info is not None
    assert got_run.info.run_id == run_id

    # ... but not write
    res = http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        {"experiment_id": exp_id, "run_name": "not-allowed"},
        headers=bearer(user_token),
    )
    assert res.status == 403, (res.status, res.body[:300])
    res = http(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
        headers=bearer(user_token),
    )
    assert res.status == 403, (res.status, res.body[:300])
    res = http(
        "POST",
        "/api/2.0/mlflow/experiments/update",
        {"experiment_id": exp_id, "new_name": name + "-renamed"},
        headers=bearer(user_token),
    )
    assert res.status == 403, (res.status, res.body[:300])
    # and the failed writes changed nothing
    after = admin.experiments.get_run(run_id).run
    assert after is not None and after.data is not None
    assert not after.data.metrics
    assert admin.experiments.get_experiment(exp_id).experiment.name == name  # type: ignore[union-attr]
