"""The `hub` command's own subcommands, run through Flask's CLI runner against the test database."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.accounts.models import Role, User
from tests.conftest import PASSWORD


def test_create_admin_makes_a_platform_admin_and_refuses_a_taken_email_cleanly(app, sessions, alice):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "root@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with sessions() as session:
        admin = session.scalars(sa.select(User).where(User.email == "root@example.com")).one()
        assert (admin.role, admin.seller_id) == (Role.ADMIN, None)
    again = runner.invoke(args=["create-admin", alice.email], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code != 0
    assert "already exists" in again.output and "argon2" not in again.output and "Traceback" not in again.output


def test_create_admin_applies_the_password_policy(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "root@example.com"], input="password1\npassword1\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output


def test_database_errors_never_carry_the_statement_parameters(sessions, alice):
    with sessions() as session:
        session.add(User(email=alice.email, name="dup", role=Role.STAFF, password_hash="$argon2id$SECRET-HASH"))
        with pytest.raises(IntegrityError) as info:
            session.flush()
    assert "SECRET-HASH" not in str(info.value)
