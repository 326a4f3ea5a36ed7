"""The `storeaudit` command: the verbs (`storeaudit.cli`), the demo, and starting the long-running
processes (serve = API + scheduler). It sits on top of every other room: it may import the
crawler, the audits and the API; none of them imports it."""
