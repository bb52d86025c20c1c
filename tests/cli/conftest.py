from tests.support.station import server_keys, station  # noqa: F401
