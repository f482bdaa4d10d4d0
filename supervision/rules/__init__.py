"""The rules engine: rule packs (YAML) compiled to durable-rules rulesets.

Pure logic, no database: ``load_pack`` / ``lint_pack`` read a directory of rule
files, ``RuleEngine`` evaluates one entity's facts at a time on the real
durable-rules engine, ``run_examples`` checks every rule against its examples.
"""
