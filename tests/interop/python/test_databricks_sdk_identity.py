"""databricks-sdk (Python) identities: `users`, `groups`, `service_principals`, `current_user` and
`token_management` against Weir's SCIM and token-management APIs.

Stock MLflow has none of these, so this module runs only against Weir
(WEIR_INTEROP_TARGET=weir, set by tests/interop/run.sh).
"""

from __future__ import annotations

import base64
import uuid

import pytest
from conftest import WEIR_ONLY, http, require_token, unique, workspace_client
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict, Unauthenticated
from databricks.sdk.service import iam

pytestmark = WEIR_ONLY


@pytest.fixture(scope="module")
def w() -> WorkspaceClient:
    return workspace_client(require_token())


def test_users_create_get_list_filter_patch_delete(w: WorkspaceClient) -> None:
    name = unique("sdk-user") + "@example.com"
    created = w.users.create(
        user_name=name,
        display_name="SDK User",
        name=iam.Name(given_name="Sdk", family_name="User"),
        emails=[iam.ComplexValue(value=name, primary=True, type="work")],
    )
    assert created.id and created.user_name == name and created.active is True
    got = w.users.get(created.id)
    assert got.display_name == "SDK User"
    assert got.name is not None and got.name.given_name == "Sdk"
    assert got.emails and got.emails[0].value == name

    found = list(w.users.list(filter=f'userName eq "{name}"'))
    assert [u.id for u in found] == [created.id]
    assert created.id in [u.id for u in w.users.list(filter='displayName co "SDK Us"')]
    assert list(w.users.list(filter=f'userName eq "{name}-nobody"')) == []

    with pytest.raises(ResourceConflict):
        w.users.create(user_name=name)
    with pytest.raises(BadRequest):
        list(w.users.list(filter="userName eq"))

    w.users.patch(
        created.id,
        operations=[iam.Patch(op=iam.PatchOp.REPLACE, path="displayName", value="Renamed User")],
        schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
    )
    assert w.users.get(created.id).display_name == "Renamed User"
    w.users.update(created.id, user_name=name, display_name="Put User", active=True)
    assert w.users.get(created.id).display_name == "Put User"

    w.users.delete(created.id)
    with pytest.raises(NotFound):
        w.users.get(created.id)


def test_users_list_pages_through_every_user(w: WorkspaceClient) -> None:
    prefix = unique("page")
    ids = {w.users.create(user_name=f"{prefix}-{i}@example.com").id for i in range(5)}
    # count=2 makes the SDK follow startIndex page by page until an empty page.
    seen = [u.id for u in w.users.list(filter=f'userName sw "{prefix}"', count=2)]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))


def test_groups_nest_and_members_patch(w: WorkspaceClient) -> None:
    user = w.users.create(user_name=unique("member") + "@example.com")
    inner = w.groups.create(display_name=unique("inner"), members=[iam.ComplexValue(value=user.id)])
    outer = w.groups.create(display_name=unique("outer"))
    assert inner.id and outer.id
    assert [m.value for m in (inner.members or [])] == [user.id]

    w.groups.patch(
        outer.id,
        operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": inner.id}])],
        schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
    )
    assert [m.value for m in (w.groups.get(outer.id).members or [])] == [inner.id]
    assert [g.value for g in (w.groups.get(inner.id).groups or [])] == [outer.id]

    # A cycle (outer inside inner) is refused.
    with pytest.raises(BadRequest):
        w.groups.patch(
            inner.id,
            operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": outer.id}])],
        )
    # An unknown member is refused.
    with pytest.raises(NotFound):
        w.groups.patch(
            inner.id,
            operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": "999999999"}])],
        )

    w.groups.patch(
        outer.id,
        operations=[iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{inner.id}"]')],
    )
    assert not w.groups.get(outer.id).members

    found = list(w.groups.list(filter=f'displayName eq "{inner.display_name}"'))
    assert [g.id for g in found] == [inner.id]
    w.groups.update(inner.id, display_name=inner.display_name, members=[])
    assert not w.groups.get(inner.id).members
    w.groups.delete(outer.id)
    with pytest.raises(NotFound):
        w.groups.get(outer.id)


def test_admins_group_membership_grants_and_revokes_admin_at_once(w: WorkspaceClient) -> None:
    name = unique("to-admin") + "@example.com"
    user = w.users.create(user_name=name)
    sp = w.service_principals.create(display_name=unique("admin-bot"))
    token = w.token_management.create_obo_token(application_id=sp.application_id, lifetime_seconds=600).token_value
    assert token
    bot = workspace_client(token)
    with pytest.raises(PermissionDenied):
        list(bot.users.list(filter=f'userName eq "{name}"'))

    admins = next(iter(w.groups.list(filter='displayName eq "admins"')))
    w.groups.patch(admins.id, operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": sp.id}])])
    assert [u.id for u in bot.users.list(filter=f'userName eq "{name}"')] == [user.id]
    w.groups.patch(admins.id, operations=[iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{sp.id}"]')])
    with pytest.raises(PermissionDenied):
        list(bot.users.list(filter=f'userName eq "{name}"'))


def test_service_principals_and_obo_tokens(w: WorkspaceClient) -> None:
    app_id = str(uuid.uuid4())
    sp = w.service_principals.create(application_id=app_id, display_name=unique("sp"))
    assert sp.id and sp.application_id == app_id and sp.active is True
    generated = w.service_principals.create(display_name=unique("sp-generated"))
    assert generated.application_id and uuid.UUID(generated.application_id)
    assert [s.id for s in w.service_principals.list(filter=f'applicationId eq "{app_id}"')] == [sp.id]
    with pytest.raises(ResourceConflict):
        w.service_principals.create(application_id=app_id)

    created = w.token_management.create_obo_token(application_id=app_id, comment="interop obo", lifetime_seconds=3600)
    assert created.token_value and created.token_info is not None
    info = created.token_info
    assert info.comment == "interop obo" and info.owner_id == int(sp.id)
    me_admin = w.current_user.me()
    assert info.created_by_id == int(me_admin.id or 0)

    bot = workspace_client(created.token_value)
    me = bot.current_user.me()
    assert me.id == sp.id and me.user_name == app_id

    listed = [t.token_id for t in w.token_management.list(created_by_id=int(me_admin.id or 0))]
    assert info.token_id in listed
    got = w.token_management.get(info.token_id)
    assert got.token_info is not None and got.token_info.owner_id == int(sp.id)

    # Deactivating the service principal stops its token on the next call; reactivating restores it.
    w.service_principals.patch(sp.id, operations=[iam.Patch(op=iam.PatchOp.REPLACE, path="active", value="false")])
    with pytest.raises(Unauthenticated):
        bot.current_user.me()
    w.service_principals.patch(sp.id, operations=[iam.Patch(op=iam.PatchOp.REPLACE, path="active", value="true")])
    assert bot.current_user.me().id == sp.id

    w.token_management.delete(info.token_id)
    with pytest.raises(Unauthenticated):
        bot.current_user.me()
    with pytest.raises(NotFound):
        w.token_management.get(info.token_id)

    w.service_principals.delete(sp.id)
    with pytest.raises(NotFound):
        w.service_principals.get(sp.id)


def test_deactivated_user_token_stops_at_once(w: WorkspaceClient) -> None:
    name = unique("leaver") + "@example.com"
    password = "Pw-" + uuid.uuid4().hex
    res = http(
        "POST",
        "/api/2.0/preview/scim/v2/Users",
        {"userName": name, "password": password},
        headers={"Authorization": f"Bearer {require_token()}"},
    )
    assert res.status == 201, res.body[:300]
    user_id = res.json()["id"]  # type: ignore[index]
    basic = base64.b64encode(f"{name}:{password}".encode()).decode()
    res = http("POST", "/api/2.0/token/create", {"comment": "leaver"}, headers={"Authorization": f"Basic {basic}"})
    assert res.status == 200, res.body[:300]
    me = workspace_client(res.json()["token_value"])  # type: ignore[index]
    assert me.current_user.me().user_name == name

    w.users.patch(user_id, operations=[iam.Patch(op=iam.PatchOp.REPLACE, path="active", value=[{"value": "false"}])])
    assert w.users.get(user_id).active is False
    with pytest.raises(Unauthenticated):
        me.current_user.me()
