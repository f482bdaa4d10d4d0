"""Evaluation of one entity at a time on the real durable-rules engine.

Design, driven by durable-rules 2.0's limits:

- one ``Host`` per ``RuleEngine`` (make one engine per process or worker; it is not
  thread-safe), the whole pack registered as one ruleset from the compiled JSON;
- the Host's background dispatch/timer threads are not started: every action runs
  synchronously in the caller's thread right after the facts are asserted, so no
  action can run late on another thread (the pack has no timers);
- each entity's facts are asserted in one batch under a fresh session id, then the
  session's state is read (durable-rules hides action exceptions there, under
  ``"exception"``) and DELETED, so live sessions never pile up (limit: 1024 per
  ruleset, after which the process may crash);
- ``MessageNotHandledException`` (no rule matched) is the normal silent case.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine
from durable.engine import Closure, Host

from supervision.rules.errors import RuleError
from supervision.rules.pack import Rule, RulePack

__all__ = ["EngineError", "EntityOutcome", "Finding", "MatchedFact", "RuleEngine"]

_engine_counter = itertools.count()


@dataclass(frozen=True)
class MatchedFact:
    """A fact a rule matched: its alias in the rule, id, type and values."""

    alias: str
    id: str
    t: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One firing of one rule for one entity (a candidate, until confirmed)."""

    uscc: str
    rule_id: str
    rule_version: int
    severity: str
    result_code: str
    matched: tuple[MatchedFact, ...]
    on_confirm: dict[str, bool]

    @property
    def fact_ids(self) -> tuple[str, ...]:
        return tuple(sorted(m.id for m in self.matched))

    def to_dict(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "rule_id": self.rule_id,
            "rule_version": self.rule_version,
            "severity": self.severity,
            "result_code": self.result_code,
            "on_confirm": dict(self.on_confirm),
            "matched": [
                {"alias": m.alias, "id": m.id, "t": m.t, "values": dict(m.values)}
                for m in self.matched
            ],
        }


@dataclass(frozen=True)
class EngineError:
    """An error while evaluating one entity; the run goes on with the next one."""

    uscc: str
    rule_id: str | None
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass
class EntityOutcome:
    uscc: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[EngineError] = field(default_factory=list)


FindingHook = Callable[[Finding], None]


def _json_default(value: Any) -> Any:
    # Derived facts already hold ISO strings; accept dates from other callers.
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a fact value")


_WARM_UP = "__warm_up__"


def _duplicate_ids(uscc: str) -> EngineError:
    return EngineError(
        uscc, None, f"主体 {uscc} 的事实 id 重复", f"duplicate fact id for entity {uscc}"
    )


class _NotJSON(Exception):
    """The facts given to ``evaluate`` cannot be written as JSON."""


def _no_op(c: Closure) -> None:
    return None


class _Host(Host):  # type: ignore[misc]  # durable-rules ships no type hints
    """A durable-rules Host whose actions are our Python callables, without threads."""

    def __init__(self, actions: Mapping[str, Callable[[Closure], None]]) -> None:
        self._supervision_actions = dict(actions)
        super().__init__()

    def get_action(self, action_name: str) -> Callable[[Closure], None]:
        try:
            return self._supervision_actions[action_name]
        except KeyError:
            raise RuleError(f"未知的动作 {action_name}", f"unknown action {action_name}") from None

    def _run(self) -> None:
        # No dispatch/timer threads: actions run synchronously in evaluate(), and a
        # background thread taking an action between our calls would race with
        # delete_state. The pack uses no timers.
        return None


class RuleEngine:
    """Evaluate entities against a rule pack on a private durable-rules Host.

    ``on_finding`` is called inside the rule action for every finding (e.g. to
    stream findings); if it raises, the error is reported for that entity and rule
    and evaluation continues with the next entity.
    """

    def __init__(self, pack: RulePack, *, on_finding: FindingHook | None = None) -> None:
        self.pack = pack
        self._on_finding = on_finding
        self._rules: dict[str, Rule] = {r.id: r for r in pack.rules}
        self._ruleset = f"supervision_{pack.digest[:12]}_{next(_engine_counter)}"
        self._sids = itertools.count()
        # Per-entity collectors, filled by the actions during one evaluate() call.
        self._current: str = ""
        self._fired: list[tuple[str, Any]] = []
        self._ran = 0  # actions entered for the current entity
        self._errors: list[EngineError] = []
        actions = {f"rule:{r.id}": self._make_action(r.id) for r in pack.rules}
        actions[_WARM_UP] = _no_op
        self._host = _Host(actions)
        definition = {r.id: {**r.condition, "run": f"rule:{r.id}"} for r in pack.rules}
        if definition:
            # A sentinel rule that only the warm-up fact matches (see _warm_up).
            definition[_WARM_UP] = {"all": [{"w": {"t": _WARM_UP}}], "run": _WARM_UP}
            self._host.set_rulesets({self._ruleset: definition})
            self._rs = self._host.get_ruleset(self._ruleset)
        else:
            self._rs = None
        self._closed = False
        self._warm_up()

    def _warm_up(self) -> None:
        """Make one action run before any real entity is evaluated.

        durable-rules 2.0.28 segfaults in delete_state when a session is deleted before
        any action of the ruleset has ever run (e.g. the first entity matches nothing).
        The sentinel rule fires on the warm-up fact, whatever the pack's rules say.
        """
        if self._rs is not None:
            self.evaluate(_WARM_UP, [{"id": _WARM_UP, "t": _WARM_UP, "uscc": _WARM_UP}])

    def _make_action(self, rule_id: str) -> Callable[[Closure], None]:
        # durable-rules inspects __code__.co_argcount: a plain one-argument function.
        def action(c: Closure) -> None:
            self._ran += 1
            matched = c._m if c._m is not None else [m._d for m in c.m]
            self._fired.append((rule_id, matched))
            if self._on_finding is not None:
                try:
                    self._on_finding(self._finding(self._current, rule_id, matched))
                except Exception as exc:
                    self._errors.append(
                        EngineError(
                            self._current,
                            rule_id,
                            f"规则 {rule_id} 处理主体 {self._current} 时动作出错：{exc!r}",
                            f"the action of rule {rule_id} failed for entity {self._current}: {exc!r}",
                        )
                    )
                    raise  # durable-rules records it in the session state as well

        return action

    def _finding(self, uscc: str, rule_id: str, matched: Any) -> Finding:
        rule = self._rules[rule_id]
        facts: list[MatchedFact] = []
        seen: set[tuple[str, str]] = set()
        frames = matched if isinstance(matched, list) else [matched]
        for frame in frames:
            # A frame is {alias: fact}; count rules over one pattern give bare facts.
            items = frame.items() if "sid" not in frame else [("m", frame)]
            for alias, fact in items:
                key = (str(alias), str(fact.get("id")))
                if key in seen:  # merged count firings share joined facts
                    continue
                seen.add(key)
                values = {k: v for k, v in fact.items() if k not in ("sid", "id", "t")}
                facts.append(
                    MatchedFact(str(alias), str(fact.get("id")), str(fact.get("t")), values)
                )
        facts.sort(key=lambda m: m.id)
        return Finding(
            uscc=uscc,
            rule_id=rule.id,
            rule_version=rule.version,
            severity=rule.severity,
            result_code=rule.result_code,
            matched=tuple(facts),
            on_confirm=dict(rule.on_confirm),
        )

    def evaluate(
        self, uscc: str, facts: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None
    ) -> EntityOutcome:
        """Assert one entity's facts, collect findings and errors, delete the session.

        Facts need a unique ``id`` and a type ``t``. With ``as_of``, findings of rules
        not in force on that day are dropped. A ``count`` rule yields one finding per
        entity holding every fact it matched.
        """
        if self._closed:
            raise RuleError("规则引擎已关闭", "the rule engine is closed")
        outcome = EntityOutcome(uscc)
        messages = [dict(fact) for fact in facts]
        if any("id" not in m for m in messages):
            outcome.errors.append(
                EngineError(
                    uscc, None, f"主体 {uscc} 的事实缺少 id", f"a fact of entity {uscc} has no id"
                )
            )
            return outcome
        # durable-rules reports a repeated id only when it is the last message of a
        # batch (and otherwise drops the repeat silently): check all of them here.
        if len({str(m["id"]) for m in messages}) != len(messages):
            outcome.errors.append(_duplicate_ids(uscc))
            return outcome
        if not messages:
            return outcome

        def render(sid: str) -> str:
            for message in messages:
                message["sid"] = sid
            try:
                return json.dumps(messages, ensure_ascii=False, default=_json_default)
            except (TypeError, ValueError) as exc:
                raise _NotJSON(exc) from exc

        try:
            return self.evaluate_payload(uscc, render, as_of=as_of)
        except _NotJSON as exc:
            outcome.errors.append(
                EngineError(
                    uscc,
                    None,
                    f"主体 {uscc} 的事实无法转换为 JSON：{exc}",
                    f"the facts of entity {uscc} cannot be written as JSON: {exc}",
                )
            )
            return outcome

    def evaluate_payload(
        self, uscc: str, render: Callable[[str], str], *, as_of: dt.date | None = None
    ) -> EntityOutcome:
        """Like ``evaluate`` for facts already written as a JSON array: ``render(sid)``
        gives it, every fact holding ``"sid": sid`` and an ``id`` unique within the
        entity (``checks.templates`` checks that when it makes a template)."""
        if self._closed:
            raise RuleError("规则引擎已关闭", "the rule engine is closed")
        outcome = EntityOutcome(uscc)
        if self._rs is None:
            return outcome
        sid = f"e{next(self._sids)}"
        return self._assert(outcome, sid, render(sid), as_of)

    def _assert(
        self, outcome: EntityOutcome, sid: str, payload: str, as_of: dt.date | None
    ) -> EntityOutcome:
        """Assert one entity's facts (a JSON array), run the actions, delete the session."""
        assert self._rs is not None
        uscc = outcome.uscc
        self._current = uscc
        self._fired = []
        self._ran = 0
        self._errors = outcome.errors
        try:
            try:
                # Code 0 handled, 1 not handled by the last message (other messages
                # may still have left actions: run them either way), 2 duplicate id.
                code, state_handle = durable_rules_engine.assert_facts(self._rs._handle, payload)
            except Exception as exc:
                outcome.errors.append(
                    EngineError(
                        uscc,
                        None,
                        f"主体 {uscc} 的事实无法写入规则引擎：{exc}",
                        f"the facts of entity {uscc} were refused by the engine: {exc}",
                    )
                )
                code, state_handle = -1, None
            if code == 2:
                outcome.errors.append(_duplicate_ids(uscc))
            elif state_handle is not None:
                self._run_actions(uscc, state_handle, outcome)
                if self._ran:  # only an action can leave an exception in the state
                    self._check_state(uscc, sid, outcome)
        finally:
            # The session may not exist if nothing was asserted. (try, not
            # contextlib.suppress: this runs once per entity.)
            try:  # noqa: SIM105
                self._rs.delete_state(sid)
            except Exception:
                pass
            self._current = ""
        outcome.findings = self._collect(uscc, as_of)
        self._fired = []
        return outcome

    def _run_actions(self, uscc: str, state_handle: int, outcome: EntityOutcome) -> None:
        failure: list[BaseException | None] = [None]

        def done(error: BaseException | None, _state: Any) -> None:
            failure[0] = error

        self._rs.do_actions(state_handle, done)
        if failure[0] is not None:
            outcome.errors.append(
                EngineError(
                    uscc,
                    None,
                    f"主体 {uscc} 的规则动作无法完成：{failure[0]}",
                    f"the rule actions of entity {uscc} did not complete: {failure[0]}",
                )
            )

    def _check_state(self, uscc: str, sid: str, outcome: EntityOutcome) -> None:
        # durable-rules swallows action exceptions into the state; ours are already
        # reported by the action wrapper, anything else is reported here.
        try:
            state = self._rs.get_state(sid)
        except Exception:  # no state: nothing ran, nothing to report
            return
        if "exception" in state and not outcome.errors:
            outcome.errors.append(
                EngineError(
                    uscc,
                    None,
                    f"主体 {uscc} 的规则动作出错：{state['exception']}",
                    f"a rule action failed for entity {uscc}: {state['exception']}",
                )
            )

    def _collect(self, uscc: str, as_of: dt.date | None) -> list[Finding]:
        if not self._fired:
            return []
        merged: dict[str, list[Any]] = {}
        findings: list[Finding] = []
        for rule_id, matched in self._fired:
            rule = self._rules[rule_id]
            if as_of is not None and not rule.in_force(as_of):
                continue
            if "count" in rule.condition:
                merged.setdefault(rule_id, []).extend(
                    matched if isinstance(matched, list) else [matched]
                )
            else:
                findings.append(self._finding(uscc, rule_id, matched))
        for rule_id, frames in merged.items():
            findings.append(self._finding(uscc, rule_id, frames))
        findings.sort(key=lambda f: (f.rule_id, f.fact_ids))
        return findings

    def evaluate_many(
        self,
        entities: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
        *,
        as_of: dt.date | None = None,
    ) -> Iterator[EntityOutcome]:
        """Evaluate ``(uscc, facts)`` pairs one after the other, yielding each outcome.

        Errors of one entity never stop the run: they are in its outcome.
        """
        for uscc, facts in entities:
            yield self.evaluate(uscc, facts, as_of=as_of)

    def close(self) -> None:
        """Free the C ruleset; the engine cannot be used afterwards."""
        if not self._closed and self._rs is not None:
            durable_rules_engine.delete_ruleset(self._rs._handle)
        self._closed = True
