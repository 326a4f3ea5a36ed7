"""Starting the API and dashboard in this process: what `storeaudit serve` and the demo run."""

from __future__ import annotations

import os

from api.app import SETTINGS_VARIABLE, create_app
from api.settings import ApiSettings
from audits.contract import Contract


def run_api(settings: ApiSettings, contract: Contract, *, host: str, port: int,
            workers: int = 1) -> None:
    """Serve the API and dashboard until interrupted (uvicorn, warnings only in the log).

    With several `workers`, each is a process of its own reading the contract from its file
    (uvicorn starts them, and starts one again should it die); this process only watches
    them (and runs the schedule, when the caller started it: exactly one process does)."""
    import uvicorn

    if workers > 1:
        os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
        uvicorn.run("api.app:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="warning")
        return
    config = uvicorn.Config(create_app(settings, contract=contract), host=host, port=port,
                            log_level="warning")
    uvicorn.Server(config).run()
