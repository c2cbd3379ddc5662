"""/api/v1/departments and /api/v1/users (administrators only)."""

from django.http import HttpRequest
from ninja import Router, Schema, Status

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


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest):
    return list(Department.objects.all())


@router.post("/departments", response={201: DepartmentOut})
def create_department(request: HttpRequest, payload: DepartmentIn):
    return Status(201, services.department_create(actor=request.auth, **payload.dict()))


@router.get("/users", response=list[UserOut])
def list_users(request: HttpRequest):
    return list(User.objects.filter(is_active=True).order_by("username"))


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserIn):
    return Status(201, services.user_create(actor=request.auth, **payload.dict()))
