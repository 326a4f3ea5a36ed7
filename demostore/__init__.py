"""The sample storefront (山禾生活旗舰店) that `storeaudit demo` and the tests crawl.

    from demostore.app import DemoStore
    from demostore.server import run_in_thread

    store = DemoStore(size=60, day=0)
    with run_in_thread(store) as running:   # running.url -> "http://127.0.0.1:54321"
        store.day = 2                        # replay the agency's fortnight (demostore.scenario)

Modules: catalog (listings, catalog.csv), scenario (the day-by-day timeline and its SKU
constants), images (generated product photos, the known infringing images), app (the ASGI app),
faults (the errors, walls and broken images it serves on demand), server (uvicorn in a thread).
Imports nothing from crawler, audits or api.
"""

__all__ = ["DemoStore", "run_in_thread", "build_products", "state_on"]


def __getattr__(name):  # lazy, so `import demostore.catalog` stays light
    if name == "DemoStore":
        from .app import DemoStore
        return DemoStore
    if name == "run_in_thread":
        from .server import run_in_thread
        return run_in_thread
    if name == "build_products":
        from .catalog import build_products
        return build_products
    if name == "state_on":
        from .scenario import state_on
        return state_on
    raise AttributeError(name)
