from hub.config import load_settings


def test_environment_variables_override_defaults_with_their_types():
    settings = load_settings(environ={"HUB_LOGIN_MAX_FAILURES": "3", "HUB_DEMO": "true",
                                      "HUB_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert settings["LOGIN_MAX_FAILURES"] == 3
    assert settings["DEMO"] is True
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


def test_explicit_configuration_wins_over_the_environment():
    settings = load_settings({"LOGIN_MAX_FAILURES": 9}, environ={"HUB_LOGIN_MAX_FAILURES": "3"})
    assert settings["LOGIN_MAX_FAILURES"] == 9


def test_test_runner_variables_are_not_settings():
    assert "TEST_DATABASE_URL" not in load_settings(environ={"HUB_TEST_DATABASE_URL": "sqlite://"})
