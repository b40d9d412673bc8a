"""An app module that raises while it is imported."""


def _load_settings():
    raise RuntimeError("fault app: settings file is missing (raised at import)")


SETTINGS = _load_settings()


async def app(scope, receive, send):  # pragma: no cover - never reached
    raise AssertionError("unreachable")
