from click.testing import CliRunner

from hub.cli import cli


def test_channel_commands_need_no_application_database_or_secret_key(monkeypatch):
    monkeypatch.delenv("HUB_SECRET_KEY", raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli, ["channels", "list"])
    assert result.exit_code == 0, result.output
    assert "woocommerce" in result.output


HEADER = "order_id,status,currency,placed_at,sku,quantity,unit_price,order_total,ship_country\n"


def test_normalize_reads_a_csv_file_and_prints_canonical_orders(tmp_path):
    import json

    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A-1,paid,JPY,2026-11-25T10:00:00+09:00,TEA-1,3,333,999,JP\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["channels", "normalize", "--kind", "csv", str(path)])
    assert result.exit_code == 0, result.output
    [order] = json.loads(result.output)
    assert (order["external_id"], order["total"], order["placed_at"]) == ("A-1", "999", "2026-11-25T01:00:00Z")


def test_normalize_names_an_order_it_cannot_map_without_a_traceback(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A-1,paid,XYZ,2026-11-25T10:00:00Z,TEA-1,1,1,1,DE\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["channels", "normalize", "--kind", "csv", str(path)])
    assert result.exit_code == 1
    assert "cannot map: order A-1" in result.output and "Traceback" not in result.output
