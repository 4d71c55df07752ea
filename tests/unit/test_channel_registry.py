"""Connectors load through the `order_hub.channels` entry-point group and are checked when loaded."""

from importlib.metadata import EntryPoint

from hub.channels.port import OrderPage, StockUpdate
from hub.channels.registry import ConnectorSpec, load


class GoodConnector:
    def __init__(self, connection):
        self.connection = connection

    def pull_orders(self, since, cursor=None):
        return OrderPage((), (), None)

    def push_stock(self, updates: list[StockUpdate]):
        return []


class Boasting:
    """Claims inventory but cannot push stock."""

    def pull_orders(self, since, cursor=None):
        return OrderPage((), (), None)


GOOD = ConnectorSpec(kind="good", title="Good", connector=GoodConnector, capabilities=("orders", "inventory"),
                     normalize=lambda bodies: [])
BOASTING = ConnectorSpec(kind="boasting", title="Boasting", connector=Boasting, capabilities=("orders", "inventory"),
                         normalize=lambda bodies: [])
MISNAMED = ConnectorSpec(kind="other", title="Misnamed", connector=GoodConnector, capabilities=("orders",),
                         normalize=lambda bodies: [])
NOT_A_SPEC = object()


def point(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group="order_hub.channels")


def test_a_valid_plugin_is_loaded_with_its_capabilities():
    registry = load([point("good", "GOOD")])
    assert registry.get("good").capabilities == ("orders", "inventory")
    assert registry.broken == {}


def test_broken_plugins_are_reported_by_name_and_skipped_without_stopping_the_others():
    registry = load([
        point("good", "GOOD"),
        point("boasting", "BOASTING"),
        point("misnamed", "MISNAMED"),
        point("object", "NOT_A_SPEC"),
        EntryPoint(name="missing", value="no_such_module_anywhere:SPEC", group="order_hub.channels"),
        point("twice", "GOOD"),
    ])
    assert list(registry.specs) == ["good"]
    assert "lacks push_stock" in registry.broken["boasting"]
    assert "calls itself 'other'" in registry.broken["misnamed"]
    assert "not a ConnectorSpec" in registry.broken["object"]
    assert "ModuleNotFoundError" in registry.broken["missing"]
    assert "calls itself 'good'" in registry.broken["twice"]


def test_asking_for_an_unknown_kind_names_what_is_installed():
    registry = load([point("good", "GOOD")])
    try:
        registry.get("etsy")
    except KeyError as exc:
        assert "installed: good" in str(exc)
    else:
        raise AssertionError("expected a KeyError")
