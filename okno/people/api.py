"""/api/v1/departments, /api/v1/users and /api/v1/tokens.

Departments and users: administrators read and write everything; everyone else reads only what
assigning work needs (docs/api.md): the active people of their own department (a head: their
subtree) by id and name, and those departments. No usernames, no roles.

Tokens: each person lists and revokes their own, an administrator anyone's."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Router, Schema, Status

from okno.core.paging import MAX_ID, RowId
from okno.people import services
from okno.people.models import Department, User

router = Router(tags=["people"])


class DepartmentIn(Schema):
    name: str
    parent_id: int | None = None
    # Its business calendar (okno.core.calendar); empty: the parent's, then the company's.
    calendar_id: int | None = None


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    calendar_id: int | None


class UserIn(Schema):
    username: str
    password: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department_id: int | None = None
    role: str = User.Role.MANAGER


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    department_id: int | None
    role: str


class ColleagueOut(Schema):
    """What a non-administrator learns about a colleague: enough to assign work to them."""
    id: int
    first_name: str
    last_name: str
    department_id: int | None


class DepartmentBriefOut(Schema):
    id: int
    name: str
    parent_id: int | None


def _own_department_ids(user: User) -> list[int]:
    """A head's subtree, anyone else's own department; none without a department."""
    if user.department_id is None:
        return []
    if user.role == User.Role.HEAD:
        return user.department.subtree_ids()
    return [user.department_id]


@router.get("/departments", response=list[DepartmentOut] | list[DepartmentBriefOut])
def list_departments(request: HttpRequest):
    """All departments for administrators; for others their own (a head's subtree), name only."""
    user = request.auth
    if user.is_admin:
        return list(Department.objects.all())
    rows = Department.objects.filter(pk__in=_own_department_ids(user))
    return [DepartmentBriefOut(id=d.pk, name=d.name, parent_id=d.parent_id) for d in rows]


@router.post("/departments", response={201: DepartmentOut})
def create_department(request: HttpRequest, payload: DepartmentIn):
    return Status(201, services.department_create(actor=request.auth, **payload.dict()))


@router.get("/users", response=list[UserOut] | list[ColleagueOut])
def list_users(request: HttpRequest):
    """Every active user for administrators; for others the active people of their own
    department (a head's subtree) by name, themselves included."""
    user = request.auth
    if user.is_admin:
        return list(User.objects.filter(is_active=True).order_by("username"))
    rows = User.objects.filter(is_active=True, department_id__in=_own_department_ids(user)) | User.objects.filter(
        pk=user.pk)
    return [ColleagueOut(id=u.pk, first_name=u.first_name, last_name=u.last_name, department_id=u.department_id)
            for u in rows.order_by("last_name", "first_name", "pk")]


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserIn):
    return Status(201, services.user_create(actor=request.auth, **payload.dict()))


# --- tokens ----------------------------------------------------------------------------------

TOKEN_ID = Path(..., ge=1, le=MAX_ID)


class TokenIn(Schema):
    name: str
    expires_at: datetime | None = None
    # An administrator may issue a token for another user.
    user_id: RowId | None = None


class TokenOut(Schema):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str
    status: str


class TokenCreatedOut(TokenOut):
    # The key, this once: only its hash is stored.
    key: str


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest, user_id: RowId | None = None, all: bool = False):  # noqa: A002
    """The caller's tokens, revoked and expired ones included (with their `status`).
    Administrators: `user_id=` someone's, `all=true` everyone's."""
    actor = request.auth
    qs = services.tokens_visible_to(actor)
    if all or (user_id is not None and user_id != actor.pk):
        if not actor.is_admin:
            raise PermissionDenied("Only an administrator sees other users' tokens")
        if user_id is not None:
            qs = qs.filter(user_id=user_id)
    else:
        qs = qs.filter(user=actor)
    return list(qs)


@router.post("/tokens", response={201: TokenCreatedOut})
def create_token(request: HttpRequest, payload: TokenIn):
    """A new token. Only with the session (a person logged in), not with a token: a stolen token
    must not mint others that would outlive its revocation."""
    actor = request.auth
    if getattr(request, "api_token", None) is not None:
        raise PermissionDenied("A token cannot issue tokens: log in, or use manage.py api_tokens issue")
    owner = actor
    if payload.user_id is not None and payload.user_id != actor.pk:
        if not actor.is_admin:
            raise PermissionDenied("Only an administrator issues tokens for another user")
        owner = User.objects.filter(pk=payload.user_id).first()
        if owner is None:
            from okno.core.errors import FieldError

            raise FieldError({"user_id": "no such user"})
    token, key = services.token_issue(actor=actor, user=owner, name=payload.name, expires_at=payload.expires_at)
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "key": key})


def _revoke(request: HttpRequest, token_id: int):
    token = get_object_or_404(services.tokens_visible_to(request.auth), pk=token_id)
    return services.token_revoke(actor=request.auth, token=token)


@router.delete("/tokens/{token_id}", response=TokenOut)
def delete_token(request: HttpRequest, token_id: int = TOKEN_ID):
    """Revokes the token (its row stays, for the record); another user's token is 404 unless
    the caller is an administrator."""
    return _revoke(request, token_id)


@router.post("/tokens/{token_id}/revoke", response=TokenOut)
def revoke_token(request: HttpRequest, token_id: int = TOKEN_ID):
    return _revoke(request, token_id)
