"""`make bench`: speed and memory figures, each beside the naive way measured in the same run.

Each section is a module with `run(quick: bool) -> list[Row]`; `python -m bench` runs them all
(or those named: `python -m bench images crawl`) and prints one table.
"""
