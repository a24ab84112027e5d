"""The microkernel's plug-ins are found, checked and called only through the registry's contract.

Runs the real plug-in modules on the services' in-memory SQLite database (no container, no
PostgreSQL): what a plug-in does is the shared domain code; what is tested here is the boundary.
"""

import asyncio
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "loadtests" / "services"))

from archsim_services import domain  # noqa: E402
from archsim_services.database import SqliteDatabase  # noqa: E402
from archsim_services.plugins import DEFAULT_PLUGINS, Plugin, PluginError, Registry  # noqa: E402

MODULES = DEFAULT_PLUGINS.split(",")


@pytest.fixture
def db(monkeypatch):
    monkeypatch.setenv("ARCHSIM_CPU_MS_INVENTORY", "0")
    monkeypatch.setenv("ARCHSIM_CPU_MS_PAYMENT", "0")
    monkeypatch.setenv("ARCHSIM_CPU_MS_NOTIFICATION", "0")
    database = SqliteDatabase()
    asyncio.run(domain.install(database, ["inventory", "payments", "notifications"]))
    return database


def test_the_default_plugins_implement_every_contract_and_do_the_domain_work(db):
    registry = Registry.load(MODULES, db)
    assert registry.loaded == {"inventory": MODULES[0], "payments": MODULES[1], "notifications": MODULES[2]}

    async def place():
        reserved = await registry.call("inventory", "reserve", {"order_id": "o1", "items": [{"product_id": 7, "quantity": 3}]})
        charged = await registry.call("payments", "charge", {"order_id": "o1", "amount_cents": 500})
        sent = await registry.call("notifications", "send", {"order_id": "o1", "message": "hi"})
        stock = await db.fetchrow("SELECT available FROM stock WHERE product_id = 7")
        return reserved, charged, sent, stock["available"]

    assert asyncio.run(place()) == ({"reserved": True}, {"status": "captured"}, {"sent": True}, domain.INITIAL_STOCK - 3)
    assert registry.calls == {"inventory.reserve": 1, "payments.charge": 1, "notifications.send": 1}


def test_a_missing_contract_stops_start_up_with_its_name(db):
    with pytest.raises(PluginError, match="no plug-in for contract\\(s\\) payments: add them to ARCHSIM_PLUGINS"):
        Registry.load([MODULES[0], MODULES[2]], db)


def fake_module(monkeypatch, name, plugin):
    module = types.ModuleType(name)
    if plugin is not None:
        module.PLUGIN = plugin
    monkeypatch.setitem(sys.modules, name, module)
    return name


def test_a_plugin_of_another_contract_version_or_lacking_an_operation_is_refused(db, monkeypatch):
    newer = fake_module(monkeypatch, "plug_v2", Plugin("payments", 2, lambda db: {"charge": None}))
    with pytest.raises(PluginError, match="plug_v2: contract payments v2, the core speaks v1"):
        Registry.load([newer], db)
    partial = fake_module(monkeypatch, "plug_partial", Plugin("inventory", 1, lambda db: {}))
    with pytest.raises(PluginError, match="plug_partial: contract inventory lacks reserve"):
        Registry.load([partial], db)
    with pytest.raises(PluginError, match="module plug_none has no PLUGIN"):
        Registry.load([fake_module(monkeypatch, "plug_none", None)], db)
