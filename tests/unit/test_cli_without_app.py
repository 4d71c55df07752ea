from click.testing import CliRunner

from hub.cli import cli


def test_channel_commands_need_no_application_database_or_secret_key(monkeypatch):
    monkeypatch.delenv("HUB_SECRET_KEY", raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli, ["channels", "list"])
    assert result.exit_code == 0, result.output
    assert "woocommerce" in result.output
