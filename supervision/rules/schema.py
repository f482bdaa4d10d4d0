"""The rule-file schema as pydantic models, with bilingual messages for every error.

``RuleSpec`` describes one rule as written in YAML (``rules/README.md`` of the
shipped pack documents it). Each constrained field carries its own message, Chinese
first and English after; ``rule_problems`` validates one rule and translates
pydantic's errors into those messages at the path of the offending key, so the pack
loader can name file, line and key. What no single field can say (fact ids an
example expects, whether a rule has examples that fire and stay silent) is checked
by ``example_problems`` on the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from supervision.rules.yamlsrc import Path_, plain

__all__ = [
    "ON_CONFIRM_KEYS",
    "RESULT_CODES",
    "SEVERITIES",
    "ExampleSpec",
    "RuleFileSpec",
    "RuleSpec",
    "SpecProblem",
    "example_facts",
    "example_problems",
    "file_problems",
    "rule_problems",
]

#: Official result codes a finding can support.
RESULT_CODES = frozenset(
    ["1", "A", "B", "C", "6", "D", "3", "4", "5", "E", "F", "7", "8", "9", "10", "11", "12"]
)
Severity = Literal["low", "medium", "high", "critical"]
#: The kinds of entity a rule file may say it covers (the entity directory's types).
EntityTypeName = Literal["企业", "个体工商户", "农民专业合作社"]
ENTITY_TYPES: tuple[str, ...] = get_args(EntityTypeName)
SEVERITIES: tuple[str, ...] = get_args(Severity)
#: What a confirmed finding may trigger; all flags, all optional.
ON_CONFIRM_KEYS = frozenset(
    {
        "raise_risk_class",
        "mark_for_targeted_draw",
        "add_to_abnormal_list",
        "add_to_serious_violation_list",
        "mark_abnormal_status",
        "notify_entity",
        "order_rectification",
        "transfer_to_case_handling",
        "notify_department",
    }
)

#: (path, zh, en): one problem, before the loader adds file, line and rule id.
SpecProblem = tuple[Path_, str, str]
Message = str | Callable[[str, Any], str]


def _bilingual(zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError("bilingual", "{en}", {"zh": zh, "en": en})


def _say(message: Message, key: str, value: Any) -> str:
    return message(key, value) if callable(message) else message.replace("{key}", key)


def one_message(zh: Message, en: Message) -> WrapValidator:
    """Any error of the annotated value becomes this one message (``{key}``: the field)."""

    def wrap(value: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        try:
            return handler(value)
        except ValidationError:
            key = info.field_name or ""
            raise _bilingual(_say(zh, key, value), _say(en, key, value)) from None

    return WrapValidator(wrap)


def _shape(test: Callable[[Any], bool], zh: str, en: str, empty_is: Any = None) -> BeforeValidator:
    """Refuse a value of the wrong shape with one message (before its items are looked at);
    with ``empty_is``, a falsy value (absent, null, empty) stands for that value."""

    def check(value: Any) -> Any:
        if empty_is is not None and not value:
            value = empty_is
        if not test(value):
            raise _bilingual(zh, en)
        return value

    return BeforeValidator(check)


def _mapping(value: Any) -> bool:
    return isinstance(value, dict)


def _filled_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value)


def _official_code(value: Any) -> str:
    if isinstance(value, bool) or str(value) not in RESULT_CODES:
        raise ValueError(value)
    return str(value)


def _typed_fact(fact: dict[Any, Any]) -> dict[Any, Any]:
    if "t" not in plain(fact):
        raise _bilingual("每个事实需要类型字段 t", "each fact needs a type field t")
    return fact


def _none_or_findings(value: Any) -> Any:
    """``expect``: the word "none" (read as ``None``) or a non-empty list of findings."""
    if value == "none":
        return None
    if not _filled_list(value):
        raise _bilingual(
            'expect 必须是 "none" 或预期结果的列表',
            'expect must be "none" or a list of expected findings',
        )
    return value


def _date_message(zh: bool) -> Message:
    if zh:
        return lambda key, value: f"{key} 必须是 YYYY-MM-DD 格式的有效日期，而不是 {value!r}"
    return lambda key, value: f"{key} must be a valid YYYY-MM-DD date, not {value!r}"


Text = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1),
    one_message("{key} 必须是非空文本", "{key} must be non-empty text"),
]
Day = Annotated[dt.date, Strict(), one_message(_date_message(True), _date_message(False))]
Scalar = Annotated[
    StrictStr | StrictInt | StrictFloat | StrictBool,
    one_message("参数值必须是标量", "a parameter value must be a scalar"),
]
Flag = Annotated[
    bool,
    Strict(),
    one_message("on_confirm 的值必须是 true/false", "on_confirm values must be true/false"),
]
Fact = Annotated[dict[Any, Any], AfterValidator(_typed_fact)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")
    #: How an unknown key is reported: (zh, en) with {key} and {allowed}.
    unknown_key: ClassVar[tuple[str, str]] = (
        "未知的键 {key}",
        "unknown key {key} (allowed: {allowed})",
    )


class TitleSpec(_Spec):
    zh: Text = Field(None, validate_default=True)
    en: Text = Field(None, validate_default=True)


class LegalBasisSpec(_Spec):
    law: Text = Field(None, validate_default=True)
    article: Text = Field(None, validate_default=True)


class ExplainSpec(_Spec):
    """A finding in words: a Jinja template per language (``supervision.rules.explain``)."""

    zh: Text = Field(None, validate_default=True)
    en: Text = Field(None, validate_default=True)


class ExpectedFinding(_Spec):
    matched: Annotated[list[Any], Strict()]
    #: The explanation this finding must read (optional): checked by ``rules test``.
    explain: ExplainSpec | None = None


class ExampleSpec(_Spec):
    name: Text = Field(None, validate_default=True)
    facts: Annotated[
        list[Fact],
        _shape(
            lambda v: isinstance(v, list) and all(isinstance(f, dict) for f in v),
            "facts 必须是事实（映射）的列表",
            "facts must be a list of facts (mappings)",
        ),
    ] = Field(None, validate_default=True)
    #: ``None`` is "none": the rule must stay silent.
    expect: Annotated[
        list[
            Annotated[
                ExpectedFinding,
                one_message(
                    "预期结果应写成 {matched: [本示例中事实的 id, ...]}",
                    "an expected finding is {matched: [ids of facts of this example, ...]}",
                ),
            ]
        ]
        | None,
        BeforeValidator(_none_or_findings),
    ] = Field(None, validate_default=True)


class OnConfirmSpec(_Spec):
    unknown_key: ClassVar[tuple[str, str]] = (
        "on_confirm 中未知的键 {key}",
        "unknown key {key} in on_confirm (allowed: {allowed})",
    )
    add_to_abnormal_list: Flag = False
    add_to_serious_violation_list: Flag = False
    #: 个体工商户 are marked 经营异常状态 (个体工商户年度报告办法), not put on the 名录.
    mark_abnormal_status: Flag = False
    mark_for_targeted_draw: Flag = False
    notify_department: Flag = False
    notify_entity: Flag = False
    order_rectification: Flag = False
    raise_risk_class: Flag = False
    transfer_to_case_handling: Flag = False


class RuleSpec(_Spec):
    """One rule; the required keys first, in the order a missing one is reported."""

    id: Annotated[
        str,
        Strict(),
        StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$"),
        one_message("id 只能含小写字母、数字、_ . -", "id may only hold a-z 0-9 _ . -"),
    ]
    version: Annotated[
        int,
        Strict(),
        Field(ge=1),
        one_message("version 必须是正整数", "version must be a positive integer"),
    ]
    title: Annotated[TitleSpec, _shape(_mapping, "title 需要 zh 和 en", "title needs zh and en")]
    legal_basis: Annotated[
        list[
            Annotated[
                LegalBasisSpec,
                _shape(
                    _mapping,
                    "每项法律依据需要 law 和 article",
                    "each legal basis needs law and article",
                ),
            ]
        ],
        _shape(_filled_list, "legal_basis 必须是非空列表", "legal_basis must be a non-empty list"),
    ]
    department: Text
    severity: Annotated[
        Severity,
        one_message(
            f"severity 必须是 {'/'.join(SEVERITIES)} 之一",
            f"severity must be one of {', '.join(SEVERITIES)}",
        ),
    ]
    result_code: Annotated[
        Any,
        AfterValidator(_official_code),
        one_message(
            lambda _, v: f"结果代码 {v!r} 不是官方代码（{', '.join(sorted(RESULT_CODES))}）",
            lambda _, v: f"result code {v!r} is not an official code",
        ),
    ]
    effective_from: Day
    #: The condition; ``compiler`` checks it (its own vocabulary, its own messages).
    when: Any
    examples: Annotated[
        list[
            Annotated[
                ExampleSpec,
                _shape(_mapping, "每个示例必须是映射", "each example must be a mapping"),
            ]
        ],
        _shape(_filled_list, "examples 必须是非空列表", "examples must be a non-empty list"),
    ]
    effective_to: Day | None = None
    params: Annotated[
        dict[Any, Scalar], _shape(_mapping, "params 必须是映射", "params must be a mapping", {})
    ] = {}
    on_confirm: Annotated[
        OnConfirmSpec,
        _shape(_mapping, "on_confirm 必须是映射", "on_confirm must be a mapping", {}),
    ] = OnConfirmSpec()
    description: Any = None
    #: What could not be confirmed about the legal basis (e.g. an article of a text since
    #: revised): said here rather than asserted.
    basis_note: Any = None
    #: The finding in words over its matched facts (``supervision.rules.explain``).
    explain: (
        Annotated[
            ExplainSpec,
            _shape(_mapping, "explain 需要 zh 和 en 模板", "explain needs zh and en templates"),
        ]
        | None
    ) = None

    @field_validator("effective_to")
    @classmethod
    def _not_before_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("effective_from")
        if value is not None and start is not None and value < start:
            raise _bilingual(
                "effective_to 早于 effective_from", "effective_to is before effective_from"
            )
        return value


class RuleFileSpec(_Spec):
    unknown_key: ClassVar[tuple[str, str]] = (
        "未知的顶层键 {key}",
        "unknown top-level key {key} (allowed: {allowed})",
    )
    rules: list[Any]
    #: The kinds of entity the file's rules cover (企业, 个体工商户, 农民专业合作社).
    entity_types: (
        list[
            Annotated[
                EntityTypeName,
                one_message(
                    f"entity_types 只能是 {'、'.join(ENTITY_TYPES)}",
                    f"entity_types may only hold {', '.join(ENTITY_TYPES)}",
                ),
            ]
        ]
        | None
    ) = None


#: The model that owns the keys under a field of that name (for unknown keys).
_OWNERS: dict[str, type[_Spec]] = {
    "title": TitleSpec,
    "legal_basis": LegalBasisSpec,
    "examples": ExampleSpec,
    "on_confirm": OnConfirmSpec,
    "explain": ExplainSpec,
}


def _allowed(model: type[_Spec]) -> str:
    names = list(model.model_fields)
    return ", ".join(sorted(names) if model is OnConfirmSpec else names)


def _translate(model: type[_Spec], path: Path_, error: Any) -> SpecProblem:
    loc: Path_ = (*path, *error["loc"])
    kind = error["type"]
    if kind == "bilingual":
        return loc, error["ctx"]["zh"], error["ctx"]["en"]
    key = loc[-1]
    if kind == "missing":
        if key == "legal_basis":
            return (
                loc[:-1],
                "缺少法律依据 legal_basis（法规名称和条款）",
                "missing legal_basis (law and article)",
            )
        return loc[:-1], f"缺少必填键 {key}", f"missing required key {key}"
    if kind in ("extra_forbidden", "invalid_key"):
        parents = [p for p in error["loc"][:-1] if isinstance(p, str)]
        owner = _OWNERS[parents[-1]] if parents else model
        zh, en = owner.unknown_key
        allowed = _allowed(owner)
        return (
            loc,
            zh.format(key=repr(key), allowed=allowed),
            en.format(key=repr(key), allowed=allowed),
        )
    return loc, f"无效的值：{error['msg']}", f"invalid value: {error['msg']}"


def _problems(model: type[_Spec], raw: Any, path: Path_) -> tuple[Any, list[SpecProblem]]:
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, [_translate(model, path, e) for e in exc.errors(include_url=False)]


def file_problems(data: Any) -> list[SpecProblem]:
    """The top level of a rule file: a mapping holding the ``rules:`` list, nothing else."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return [((), "文件顶层需要 rules: 规则列表", "the file needs a top-level rules: list")]
    return _problems(RuleFileSpec, data, ())[1]


def rule_problems(raw: Any, path: Path_) -> tuple[RuleSpec | None, list[SpecProblem]]:
    """Validate one rule (its ``when`` aside); the spec when it is valid, and the problems."""
    if not isinstance(raw, dict):
        return None, [(path, "每条规则必须是映射", "each rule must be a mapping")]
    spec, problems = _problems(RuleSpec, raw, path)
    if "examples" in raw:
        problems += example_problems(raw["examples"], (*path, "examples"))
    return spec, problems


def example_facts(raw_facts: Any) -> list[dict[str, Any]]:
    """An example's facts as the engine gets them: plain values, each with an ``id``
    (``example-fact-N`` when not written); none when the facts are not mappings."""
    if not isinstance(raw_facts, list) or not all(isinstance(f, dict) for f in raw_facts):
        return []
    facts = [plain(f) for f in raw_facts]
    for j, fact in enumerate(facts):
        fact.setdefault("id", f"example-fact-{j}")
    return facts


def _written_finding(finding: Any) -> bool:
    return (
        isinstance(finding, dict)
        and set(finding) <= {"matched", "explain"}
        and "matched" in finding
        and isinstance(finding["matched"], list)
    )


def example_problems(raw: Any, path: Path_) -> list[SpecProblem]:
    """What spans fields of the examples: fact ids (unique, and the only ones an expected
    finding may name) and examples both where the rule fires and where it stays silent."""
    if not _filled_list(raw):
        return []
    out: list[SpecProblem] = []
    examples = [(i, item) for i, item in enumerate(raw) if isinstance(item, dict)]
    for i, item in examples:
        here = (*path, i)
        ids = [str(f["id"]) for f in example_facts(item.get("facts"))]
        if len(set(ids)) != len(ids):
            out.append(((*here, "facts"), "事实的 id 重复", "duplicate fact ids"))
        expect = item.get("expect")
        for k, finding in enumerate(expect if isinstance(expect, list) else []):
            if _written_finding(finding) and not all(str(m) in ids for m in finding["matched"]):
                out.append(
                    (
                        (*here, "expect", k),
                        "预期结果应写成 {matched: [本示例中事实的 id, ...]}",
                        "an expected finding is {matched: [ids of facts of this example, ...]}",
                    )
                )
    if examples and not any(_filled_list(item.get("expect")) for _, item in examples):
        out.append((path, "缺少会触发规则的示例", "no example where the rule fires"))
    if examples and not any(item.get("expect") == "none" for _, item in examples):
        out.append((path, "缺少规则不触发的示例", "no example where the rule stays silent"))
    return out
