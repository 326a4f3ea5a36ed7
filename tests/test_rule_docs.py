"""What people read about the rules is written from the rules: the README's table, the
`storeaudit init` template, `storeaudit rules` and the dashboard's names."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from audits.contract import parse_contract
from audits.contract_template import contract_template
from audits.rules import RULES
from audits.rules.docs import markdown_table, own_settings
from storeaudit.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
runner = CliRunner()


def test_every_rule_says_what_it_checks_why_and_gives_an_example():
    for rule in RULES:
        assert rule.label and rule.description.endswith("."), rule.id
        assert "Example:" in rule.details, f"{rule.id}: its docstring needs an example"


def test_the_readme_rule_table_is_the_registrys():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- The rules table")
    table = text[text.index("\n", start) + 1:text.index("<!-- end of the rules table -->")]
    assert table == markdown_table(), (
        "the README's rule table is out of date: paste `storeaudit rules --markdown` there")
    assert [row.split("`")[1] for row in table.splitlines()[2:]] == [r.id for r in RULES]


def test_storeaudit_rules_prints_the_table_and_each_rule(tmp_path):
    result = runner.invoke(app, ["rules", "--markdown"])
    assert result.exit_code == 0 and result.output == markdown_table()
    contract = tmp_path / "contract.toml"
    contract.write_text('[store]\nname = "S"\nbase_url = "http://s.test"\n'
                        '[rules.titles.length]\nenabled = false\n')
    result = runner.invoke(app, ["rules", "-c", str(contract)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for rule in RULES:
        assert rule.id in result.output and rule.label in result.output
    assert re.search(r"titles\.length .*minor \(off\)", result.output)


def test_the_init_template_has_every_rules_section_with_its_defaults():
    template = contract_template()
    contract = parse_contract(template, "contract.toml")
    for rule in RULES:
        assert f"\n[rules.{rule.id}]" in template, rule.id
        assert rule.description.split()[0] in template
        defaults = rule.settings()
        assert contract.rule_settings(rule.id) == defaults, rule.id
        for name, _ in own_settings(rule):
            if getattr(defaults, name) is not None:
                assert re.search(rf"\n{name} = ", template), f"{rule.id}.{name}"


def test_init_writes_that_template(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "contract.toml").read_text(encoding="utf-8") == contract_template()
