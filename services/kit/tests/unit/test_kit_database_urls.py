"""Database URLs derived from an admin URL keep the server's options (a Unix socket directory, TLS)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from mimamori.kit.provisioning import service_url
from mimamori.kit.testing.servers import with_database

SOCKET = "postgresql+asyncpg://admin:secret@/mimamori?host=/run/pg&port=45432"
TLS = "postgresql+asyncpg://admin:secret@db.example:5432/mimamori?ssl=require"


def test_a_fresh_database_keeps_the_servers_options() -> None:
    for admin in (SOCKET, TLS):
        derived = make_url(with_database(admin, "t_1"))
        original = make_url(admin)
        assert derived.database == "t_1"
        assert (derived.host, derived.port, derived.username, derived.password) == (
            original.host,
            original.port,
            original.username,
            original.password,
        )
        assert dict(derived.query) == dict(original.query)


def test_a_services_url_has_its_role_and_the_servers_options() -> None:
    derived = make_url(service_url(SOCKET, role="mimamori_casework", password="p@ss/w:rd"))
    assert derived.drivername == "postgresql+asyncpg"
    assert (derived.username, derived.password) == ("mimamori_casework", "p@ss/w:rd")  # escaped, read back whole
    assert derived.database == "mimamori"
    assert dict(derived.query) == {"host": "/run/pg", "port": "45432"}
    plain = make_url(service_url("postgresql://admin:secret@127.0.0.1:5432/town", role="r", password="x"))
    assert (plain.drivername, plain.host, plain.port) == ("postgresql+asyncpg", "127.0.0.1", 5432)
    assert plain.database == "town"
