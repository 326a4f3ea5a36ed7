"""Starting the API and dashboard in this process: what `storeaudit serve` and the demo run."""

from __future__ import annotations

from api.app import create_app
from api.settings import ApiSettings
from audits.contract import Contract


def run_api(settings: ApiSettings, contract: Contract, *, host: str, port: int) -> None:
    """Serve the API and dashboard until interrupted (uvicorn, warnings only in the log)."""
    import uvicorn

    config = uvicorn.Config(create_app(settings, contract=contract), host=host, port=port,
                            log_level="warning")
    uvicorn.Server(config).run()
