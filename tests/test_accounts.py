"""Getting people in: ``POST /api/users/`` (staff) and ``manage.py import_users``."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from labeling.models import Membership
from tests.factories import make_project

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def world(make_user):
    staff = make_user("boss", is_staff=True)
    lead = make_user("lead")
    project = make_project(lead=lead, name="P")
    other = make_project(lead=lead, name="Q")
    return staff, lead, project, other


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_staff_create_a_user_with_a_password_in_projects(world):
    staff, _, project, other = world
    body = {
        "username": "zoë.ann",
        "email": "zoe@example.org",
        "projects": [
            {"project": project.pk, "role": "annotator"},
            {"project": other.pk, "role": "lead"},
        ],
    }
    response = api(staff).post("/api/users/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["username"] == "zoë.ann"
    assert created["reset_link"] is None
    password = created["password"]
    assert len(password) >= 16
    user = User.objects.get(username="zoë.ann")
    assert user.check_password(password)
    assert user.email == "zoe@example.org"
    assert sorted(created["projects"], key=lambda p: p["project"]) == [
        {"project": project.pk, "role": "annotator"},
        {"project": other.pk, "role": "lead"},
    ]
    token = APIClient().post(
        "/api/auth/token/", {"username": "zoë.ann", "password": password}, format="json"
    )
    assert token.status_code == 200
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    roles = {m["project"]: m["role"] for m in me.get("/api/me/").json()["memberships"]}
    assert roles == {project.pk: "annotator", other.pk: "lead"}


def test_reset_link_sets_a_password_through_the_admin_page(world, client):
    staff, _, project, _ = world
    body = {"username": "rita", "credentials": "reset_link", "projects": []}
    response = api(staff).post("/api/users/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["password"] is None
    link = created["reset_link"]
    assert link.startswith("http://testserver/admin/reset/")
    user = User.objects.get(username="rita")
    assert not user.has_usable_password()

    page = client.get(link, follow=True)  # Django redirects to a token-less URL first
    assert page.status_code == 200
    assert b"new_password1" in page.content
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-Long-passphrase-42", "new_password2": "a-Long-passphrase-42"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-Long-passphrase-42")
    again = client.get(link, follow=True)  # the link works once
    assert b"new_password1" not in again.content


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"username": ""}, "username", "blank"),
        ({"username": "has space"}, "username", "letters, digits"),
        ({"username": "lead"}, "username", "is taken"),
        ({"username": "LEAD"}, "username", "is taken"),
        ({"username": "x", "email": "not-an-email"}, "email", "valid email"),
        ({"username": "x", "credentials": "magic"}, "credentials", "not a valid choice"),
        (
            {"username": "x", "projects": [{"project": 999999, "role": "lead"}]},
            "projects[0].project",
            "no project",
        ),
        (
            {"username": "x", "projects": [{"project": 1, "role": "boss"}]},
            "projects[0].role",
            "not a valid choice",
        ),
        ({"username": "x\u0000"}, "username", "NUL"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_and_create_nothing(world, body, field, fragment):
    staff = world[0]
    before = User.objects.count()
    response = api(staff).post("/api/users/", body, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in errors, errors
    assert fragment.lower() in errors[field][0].lower()
    assert User.objects.count() == before


def test_only_staff_manage_users(world, make_user):
    staff, lead, project, _ = world
    for user, code in ((lead, 403), (make_user("plain"), 403), (None, 401)):
        client = api(user)
        assert client.get("/api/users/").status_code == code
        response = client.post("/api/users/", {"username": "sneaky"}, format="json")
        assert response.status_code == code
        assert set(response.json()) == {"detail", "code", "errors"}
    assert not User.objects.filter(username="sneaky").exists()
    listed = api(staff).get("/api/users/").json()
    assert [u["username"] for u in listed["results"]] == ["boss", "lead", "plain"]
    assert "password" not in listed["results"][0]


def test_user_list_runs_constant_queries(world, make_user, django_assert_num_queries):
    staff = world[0]
    client = api(staff)
    with django_assert_num_queries(2):  # count + page
        client.get("/api/users/")
    for i in range(5):
        make_user(f"more{i}")
    with django_assert_num_queries(2):
        assert len(client.get("/api/users/").json()["results"]) == 7


# --- the management command ---------------------------------------------------------------


def run(path, *args) -> tuple[list[dict[str, str]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_users", str(path), *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), err.getvalue()


def test_csv_creates_users_with_passwords_and_roles(world, tmp_path):
    _, lead, project, other = world
    people = tmp_path / "people.csv"
    people.write_text(
        "username,email,role,project\n"
        f"ana,ana@example.org,annotator,{project.pk}\n"
        f"björn,,lead,{other.pk}\n"
        f"ana,ana@example.org,lead,{other.pk}\n"
        f"LEAD,,annotator,{other.pk}\n",
        encoding="utf-8",
    )
    rows, summary = run(people)
    by_name = {r["username"]: r for r in rows}
    assert set(by_name) == {"ana", "björn", "lead"}
    assert by_name["lead"]["status"] == "exists"
    assert by_name["lead"]["password"] == ""
    assert User.objects.get(username="ana").check_password(by_name["ana"]["password"])
    assert User.objects.get(username="björn").check_password(by_name["björn"]["password"])
    assert by_name["ana"]["projects"] == f"{project.pk}:annotator {other.pk}:lead"
    assert Membership.objects.get(user=lead, project=other).role == "annotator"
    assert "2 users created, 1 existing" in summary


def test_csv_reset_links_with_default_project(world, tmp_path):
    _, _, project, _ = world
    people = tmp_path / "people.csv"
    people.write_text("username,role\ncleo,annotator\ndev,annotator\n")
    rows, _ = run(
        people, "--project", str(project.pk), "--reset-links", "--base-url", "https://l.example"
    )
    assert [r["password"] for r in rows] == ["", ""]
    for row in rows:
        assert re.fullmatch(r"https://l\.example/admin/reset/[\w-]+/[\w-]+/", row["reset_link"])
        assert not User.objects.get(username=row["username"]).has_usable_password()
    assert Membership.objects.filter(project=project, role="annotator").count() == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "username,role,project\nok,annotator,{p}\nbad name,annotator,{p}\n",
            "line 3, column username",
        ),
        (
            "username,role,project\nok,annotator,{p}\nx,boss,{p}\n",
            "line 3, column role: must be one of",
        ),
        (
            "username,role,project\nok,annotator,99999\n",
            "line 2, column project: no project with id 99999",
        ),
        (
            "username,role,project\nok,annotator,abc\n",
            "line 2, column project: must be a project id",
        ),
        ("username,email\nok,nope\n", "line 2, column email: is not an email address"),
        ("username,role\nok,annotator\n", "line 2, column project: is required with a role"),
        ("username,colour\nok,red\n", "line 1, column colour: unknown column"),
        ("email\na@b.org\n", "line 1, column username: missing column"),
        (
            "username,role,project\nok,annotator,{p}\nok,lead,{p}\n",
            "line 3, column username: is listed twice",
        ),
        ("username,role,project\nok,annotator\n", "line 2, column : expected 3 fields, got 2"),
        ("", "line 1, column : the file is empty"),
    ],
)
def test_bad_csv_rows_name_line_and_column_and_import_nothing(world, tmp_path, content, expected):
    project = world[2]
    people = tmp_path / "people.csv"
    people.write_text(content.format(p=project.pk))
    before = (User.objects.count(), Membership.objects.count())
    with pytest.raises(CommandError) as raised:
        run(people)
    assert "nothing was imported" in str(raised.value)
    assert expected in str(raised.value)
    assert (User.objects.count(), Membership.objects.count()) == before


def test_non_utf8_csv_and_missing_base_url_are_refused(world, tmp_path):
    people = tmp_path / "people.csv"
    people.write_bytes(b"username\nj\xf6rg\n")
    with pytest.raises(CommandError, match="line 2, column : the file is not UTF-8"):
        run(people)
    with pytest.raises(CommandError, match="--base-url"):
        run(people, "--reset-links")


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("anonymous", 401),
        ("annotator", 403),
        ("other_annotator", 403),
        ("lead", 403),
        ("other_lead", 403),
        ("staff", 201),
    ],
)
def test_users_endpoint_every_role(make_user, role, code):
    from tests.api_helpers import client_for, make_world

    w = make_world(make_user)
    user = None if role == "anonymous" else getattr(w, role)
    client = client_for(user)
    body = {"username": f"new-{role}", "projects": [{"project": w.project.pk, "role": "annotator"}]}
    response = client.post("/api/users/", body, format="json")
    assert response.status_code == code, response.json()
    listed = client.get("/api/users/")
    assert listed.status_code == (200 if code == 201 else code)
    created = User.objects.filter(username=f"new-{role}").exists()
    assert created == (code == 201)
