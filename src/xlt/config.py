"""A study is data: YAML read with a safe loader into typed, validated pydantic models.

Every error becomes one line naming the file, the field, what was found and what is allowed, and
is raised before anything is written. Options that belong to a registered component (a method's,
a head's, pretraining's, the synthetic benchmark's sizes) are resolved here, once, into that
component's typed model (the `resolved` / `head_options` properties); the plan and every stage use
those objects and never validate again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xlt.errors import XltError
from xlt.registry import did_you_mean
from xlt.results.records import ORACLE

if TYPE_CHECKING:
    from xlt.data.synthetic import BenchmarkSizes
    from xlt.kinds import HeadOptions
    from xlt.methods import MethodOptions
    from xlt.pretrain import PretrainOptions


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _file_name(name: str) -> str:
    """Names become file and folder names in the study directory: they may not leave it."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name) or ".." in name:
        raise ValueError(
            "a name is used in file names: use letters, digits and . _ + - (not starting with '.', no '..' and no '/')"
        )
    return name


Name = Annotated[str, AfterValidator(_file_name)]


class SyntheticData(Strict):
    """The embedded benchmark: generated from a seed, cached under $XLT_CACHE."""

    seed: int = 0
    sizes: dict[str, int] = Field(default_factory=dict)  # passed to the generator (e.g. test items per language)

    @cached_property
    def resolved_sizes(self) -> BenchmarkSizes:
        from xlt.data.synthetic import BenchmarkSizes

        return BenchmarkSizes.model_validate(self.sizes)


class PretrainConfig(Strict):
    """Pretrain a small encoder on the benchmark's unlabelled text before the study (cached)."""

    options: dict[str, Any] = Field(default_factory=dict)  # xlt.pretrain.PretrainOptions fields

    @cached_property
    def resolved(self) -> PretrainOptions:
        from xlt.pretrain import PretrainOptions

        return PretrainOptions.model_validate(self.options)


class ModelConfig(Strict):
    name_or_path: str | None = None  # Hub id or local directory; None with `pretrain` set
    revision: str | None = None
    trust_remote_code: bool = False
    pretrain: PretrainConfig | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if (self.name_or_path is None) == (self.pretrain is None):
            raise ValueError("give exactly one of model.name_or_path and model.pretrain")
        return self


class DataConfig(Strict):
    dir: Path | None = None  # local task files (release or XTREME layout); None = Hugging Face Hub
    synthetic: SyntheticData | None = None  # set for studies on the embedded benchmark


CRITERIA = ("dev", "target-dev")


class Selection(Strict):
    """Checkpoint selection, as the papers did it: every `every` steps (and at the last), score the stage on dev
    and keep the best checkpoint (primary metric; ties go to the earlier step). "dev": the dev split of the
    stage's own training languages (zero-shot: no target-language data). "target-dev": the dev sets of the
    evaluated languages, a labelled oracle row that shows what zero-shot selection costs (targets only)."""

    every: int = Field(gt=0)
    on: list[Literal["dev", "target-dev"]] = Field(default=["dev"], min_length=1)  # pydantic copies list defaults

    @field_validator("on", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _distinct(self) -> Selection:
        _unique("on", self.on)
        return self


class Training(Strict):
    steps: int | None = Field(default=None, ge=0)  # 0: no training (evaluate the encoder as it arrives)
    epochs: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=32, gt=0)
    eval_batch_size: int = Field(default=64, gt=0)
    max_length: int = Field(default=128, ge=8)
    checkpoint_every: int = Field(default=200, gt=0)  # steps between resumable checkpoints
    compile: bool = False  # torch.compile the model (pays off on long runs; the first steps compile)
    select: Selection | None = None  # None: the stage's last step is its checkpoint

    @model_validator(mode="after")
    def _one_budget(self) -> Training:
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        return self

    def total_steps(self, n_examples: int, scale: float = 1.0) -> int:
        if self.steps == 0:
            return 0
        if self.steps is None:
            assert self.epochs is not None  # _one_budget: exactly one of steps and epochs
            base = math.ceil(self.epochs * n_examples / self.batch_size)
        else:
            base = self.steps
        return max(1, round(base * scale))


class MethodConfig(Strict):
    name: Name  # the recipe's label in results ("finetune", "deep_prompt_p32", ...)
    type: str | None = None  # registered method; default: name
    options: dict[str, Any] = Field(default_factory=dict)  # the method's Options fields

    @property
    def method_type(self) -> str:
        return self.type or self.name

    @cached_property
    def resolved(self) -> MethodOptions:
        from xlt.methods import get_method

        return get_method(self.method_type).Options.model_validate(self.options)


def _head_options(task: str, head: dict[str, Any]) -> HeadOptions:
    """`head` as the options of the head of `task`'s kind."""
    from xlt.kinds import get_kind
    from xlt.tasks import get_task

    return get_kind(get_task(task).kind).HeadOptions.model_validate(head)


class IntermediateConfig(Strict):
    name: Name  # "none" is reserved for "no intermediate stage"
    task: str
    languages: list[str] | Literal["all", "train"] = "train"  # "train": the target's training languages
    temperature: float = Field(default=1.0, gt=0)  # language mixing: p(lang) ~ n_lang ** (1 / T)
    training: Training
    head: dict[str, Any] = Field(default_factory=dict)

    @cached_property
    def head_options(self) -> HeadOptions:
        return _head_options(self.task, self.head)

    @field_validator("name")
    @classmethod
    def _not_none(cls, name: str) -> str:
        if name == "none":
            raise ValueError("'none' is reserved for no intermediate stage; choose another name")
        return name


class TargetConfig(Strict):
    task: str
    train_languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)  # one training set, mixed
    # language pairs: one branch per source language, each trained on that language alone (`branches`)
    sources: list[str] | None = Field(default=None, min_length=1)
    eval_languages: list[str] | Literal["all"] = "all"
    intermediate: list[str] = Field(default_factory=lambda: ["none"], min_length=1)
    temperature: float = Field(default=1.0, gt=0)
    training: Training
    head: dict[str, Any] = Field(default_factory=dict)
    split: Literal["test", "dev"] = "test"

    @cached_property
    def head_options(self) -> HeadOptions:
        """Options of the evaluated task's head (its training stage takes them by `xlt.pipeline.plan.carry`)."""
        return _head_options(self.task, self.head)

    @model_validator(mode="after")
    def _one_training_set(self) -> TargetConfig:
        if self.sources is not None:
            if "train_languages" in self.model_fields_set:
                raise ValueError(
                    "give one of train_languages (one training set) and sources (one branch per language), not both"
                )
            _unique("sources", self.sources)
        return self

    def branches(self) -> list[TargetConfig]:
        """The target as trained: itself, or with `sources` one copy per source language, trained on it alone."""
        if self.sources is None:
            return [self]
        return [self.model_copy(update={"train_languages": [source], "sources": None}) for source in self.sources]


class Comparison(Strict):
    """Recipe a against recipe b, each named by its label in the report: "method" (no intermediate stage) or
    "method + condition" (e.g. "finetune + multilingual")."""

    a: str
    b: str


class Published(Strict):
    """A number from a paper this study should be compared with."""

    task: str
    language: str = "average"  # a language code, or "average" (over the evaluated languages)
    metric: str
    value: float  # x100, as the results
    source: str
    recipe: str | None = None  # the recipe label it corresponds to; None: shown beside every recipe


class Tracking(Strict):
    """Experiment tracking through accelerate's trackers (`xlt.pipeline.stage.tracking`): each training stage logs its
    loss, learning rate, throughput and dev scores, each evaluation its per-language scores. Logs stay under the
    study directory's tracking/ (W&B runs offline unless WANDB_MODE says otherwise); never part of a stage hash."""

    backend: Literal["tensorboard", "wandb", "mlflow"]
    project: str | None = None  # W&B project, MLflow experiment, TensorBoard folder; default: the study's name


class Study(Strict):
    name: Name = "study"
    model: ModelConfig
    data: DataConfig = DataConfig()
    benchmark: str | None = None  # the language-list key of each task: "xtreme-r", "xtreme", "synthetic"
    methods: list[MethodConfig] = Field(min_length=1)
    intermediate: list[IntermediateConfig] = Field(default_factory=list)
    targets: list[TargetConfig] = Field(min_length=1)
    references: list[Literal["majority", "random_init"]] = Field(default=["majority"])
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    # autocast through accelerate, on GPUs; "auto": bf16 where the GPU has it, full precision on CPUs
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = "auto"
    output_dir: Path = Path("runs/study")
    # the report's contrasts; none given: each condition against none, each pair of conditions of a method,
    # and each pair of methods under a condition
    comparisons: list[Comparison] = Field(default_factory=list)
    multiplicity: Literal["holm", "bh"] = "holm"  # adjustment within each contrast table
    published: list[Published] = Field(default_factory=list)
    tracking: Tracking | None = None  # off by default

    @model_validator(mode="after")
    def _names_resolve(self) -> Study:
        _unique("methods", [m.name for m in self.methods])
        _unique("intermediate", [c.name for c in self.intermediate])
        known = {c.name for c in self.intermediate} | {"none"}
        for i, target in enumerate(self.targets):
            for name in target.intermediate:
                if name not in known:
                    raise ValueError(
                        f"targets.{i}.intermediate: {name!r} is not a defined intermediate condition"
                        f"{did_you_mean(name, known)} (defined: {', '.join(sorted(known))})"
                    )
        for i, cond in enumerate(self.intermediate):
            if cond.training.select is not None and "target-dev" in cond.training.select.on:
                raise ValueError(
                    f"intermediate.{i}.training.select.on: 'target-dev' selects a target's checkpoint"
                    " on its evaluated languages; an intermediate stage selects on 'dev'"
                )
        labels = {label for label, _ in self.recipe_labels()}
        for i, comparison in enumerate(self.comparisons):
            for side in ("a", "b"):
                label = getattr(comparison, side)
                if label not in labels:
                    raise ValueError(
                        f"comparisons.{i}.{side}: no recipe {label!r}{did_you_mean(label, labels)}"
                        f" (recipes: {', '.join(sorted(labels))})"
                    )
        return self

    def recipe_labels(self) -> list[tuple[str, str]]:
        """(label, method) of every recipe the study can run: "method" and "method + condition", the oracle
        rows of target-dev selection ("method@target-dev") and the random_init reference."""
        oracle = any(t.training.select and "target-dev" in t.training.select.on for t in self.targets)
        methods = [m.name for m in self.methods] + [oracle_label(m.name) for m in self.methods if oracle]
        conditions = ["none"] + [c.name for c in self.intermediate]
        labels = [(m if c == "none" else f"{m} + {c}", m) for m in methods for c in conditions]
        return labels + [(r, r) for r in self.references if r == "random_init"]


class DataLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and floats: `on`, `off`, `yes`, `no` stay strings (a field
    named `on`, Norwegian's language code `no`), and `3e-5` is a number, as a researcher writes it."""


DataLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DataLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
DataLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789.")
)


def read_yaml(text: str) -> Any:
    """Data only: no tags that construct objects, YAML 1.2 scalars (`DataLoader`)."""
    return yaml.load(text, Loader=DataLoader)  # noqa: S506 (DataLoader is a SafeLoader)


def oracle_label(method: str) -> str:
    """The method name of a recipe's rows selected on the target languages' dev sets (an oracle)."""
    return f"{method}{ORACLE}"


def _unique(field: str, names: Sequence[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{field}: names must be unique, {duplicates[0]!r} appears twice")


def load_study(path: Path, overrides: Sequence[str] = ()) -> Study:
    """Read, override (`a.b=value`), validate and check names against the registries."""
    raw = read_config(path)
    for override in overrides:
        apply_override(raw, override)
    return validate_study(raw, str(path))


def read_config(path: Path) -> dict:
    """A study YAML file as data, not yet validated."""
    try:
        raw = read_yaml(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XltError(f"{path}: no such config file") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise XltError(f"{path}{at}: not valid YAML ({err.problem or err.context or _first_line(err)})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise XltError(f"{path}: not valid YAML ({_first_line(err)})") from None
    if not isinstance(raw, dict):
        raise XltError(f"{path}: a study config is a mapping of fields, found {type(raw).__name__}")
    return raw


def validate_study(raw: dict, source: str) -> Study:
    try:
        study = Study.model_validate(raw)
    except ValidationError as err:
        raise XltError(f"{source}: {describe_error(err)}") from None
    check_registries(study, source)
    return study


def describe_error(err: ValidationError) -> str:
    errors = err.errors()
    # a misspelt field is the cause of the "missing" error its right spelling then raises: name it first
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if not where:  # a check across fields names its own field in the message
        return message
    if first["type"] == "extra_forbidden":
        hint = did_you_mean(str(first["loc"][-1]), _fields_at(first["loc"][:-1]))
        return f"{where}: unknown field{hint or ' (check its spelling against the config reference in README.md)'}"
    if first["type"] == "missing":
        return f"{where}: required field is missing"
    found = first.get("input")
    found_text = f"found {found!r}; " if found is not None and not isinstance(found, dict) else ""
    return f"{where}: {found_text}{message}"


def _fields_at(loc: tuple) -> list[str]:
    """The field names of the config model at a validation error's location (e.g. ("targets", 0) -> a target's)."""
    model: Any = Study
    for part in loc:
        if isinstance(part, int):
            continue  # an item of the list the previous field holds: its model was taken already
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _model_in(annotation: Any) -> Any:
    """The config model an annotation holds: itself, or inside list[...] / X | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in get_args(annotation) if (m := _model_in(arg)) is not None), None)


def check_registries(study: Study, source: str) -> None:
    """Names must exist and options fit their component: fail before any work starts."""
    from xlt.tasks import get_task

    try:
        _check_benchmark(study)
        _resolve(study.model.pretrain, "model.pretrain.options")
        _resolve(study.data.synthetic, "data.synthetic.sizes", "resolved_sizes")
        for i, method in enumerate(study.methods):
            _resolve(method, f"methods.{i}.options")
        for i, cond in enumerate(study.intermediate):
            _resolve(cond, f"intermediate.{i}.head", "head_options")
            _check_selection(f"intermediate.{i}.training.select", cond.training, [get_task(cond.task)], None)
        for i, target in enumerate(study.targets):
            spec = get_task(target.task)
            try:
                trainers = [get_task(task) for task in spec.training_tasks]
                if "majority" in study.references:
                    spec.majority_task()  # raises where the reference has no training labels to count
            except XltError as err:
                raise XltError(f"targets.{i}.task: {err}") from None
            field = "sources" if target.sources is not None else "train_languages"
            for trainer in trainers:
                _check_languages(f"targets.{i}.{field}", target.sources or target.train_languages, trainer)
            _check_languages(f"targets.{i}.eval_languages", target.eval_languages, spec)
            _resolve(target, f"targets.{i}.head", "head_options")
            _check_selection(f"targets.{i}.training.select", target.training, trainers, spec)
    except XltError as err:
        raise XltError(f"{source}: {err}") from None


def _resolve(config: BaseModel | None, where: str, attribute: str = "resolved") -> None:
    """Resolve (and cache) a component's typed options, naming the field on a validation error."""
    if config is None:
        return
    try:
        getattr(config, attribute)
    except ValidationError as err:
        raise XltError(f"{where}.{describe_error(err)}") from None


def _check_selection(where: str, training: Training, trainers: list, evaluated) -> None:
    """Selection reads dev splits: the training tasks' own, and for target-dev the evaluated task's."""
    if training.select is None:
        return
    for trainer in trainers:
        if "dev" not in trainer.splits:
            splits = ", ".join(trainer.splits)
            raise XltError(f"{where}: {trainer.name} has no dev split to select on (splits: {splits})")
    if "target-dev" in training.select.on:
        if trainers[-1].name != evaluated.name:
            raise XltError(
                f"{where}.on: 'target-dev' scores the training model on {evaluated.name}'s dev sets, but "
                f"{evaluated.name} trains on {trainers[-1].name}; select this target on 'dev'"
            )
        if "dev" not in evaluated.splits:
            raise XltError(f"{where}.on: {evaluated.name} has no dev split for 'target-dev'")


def _check_benchmark(study: Study) -> None:
    from xlt.tasks import TASKS

    known = sorted({name for _, spec in TASKS.items() for name in spec.languages})
    if study.benchmark is not None and study.benchmark not in known:
        raise XltError(
            f"benchmark: unknown benchmark {study.benchmark!r}{did_you_mean(study.benchmark, known)}"
            f" (known: {', '.join(known)})"
        )


def _check_languages(where: str, languages: list[str] | str, spec) -> None:
    known = set(spec.train_languages).union(*spec.languages.values())
    unknown = [] if languages == "all" else [lang for lang in languages if lang not in known]
    if unknown:
        raise XltError(
            f"{where}: found {unknown[0]!r}; {spec.name} has languages {', '.join(sorted(known))}"
            f"{did_you_mean(unknown[0], known)}"
        )


def apply_override(raw: dict, override: str) -> None:
    """`a.b.c=value`: value parsed as YAML; list items addressed by index or by their `name`."""
    if "=" not in override:
        raise XltError(f"--set {override!r}: expected key=value, e.g. --set seeds=[0,1]")
    key, text = override.split("=", 1)
    set_field(raw, key, _parse_value(text))


def set_field(raw: dict, key: str, value: Any) -> None:
    """Set the field at dotted `key` (list items addressed by index or by their `name`) to `value`."""
    *parents, leaf = key.split(".")
    node: Any = raw
    for part in parents:
        node = _child(node, part, key)
    if isinstance(node, list):
        node[_index(node, leaf, key)] = value
    elif isinstance(node, dict):
        node[leaf] = value
    else:
        raise XltError(f"--set {key}: {leaf!r} cannot be set inside a {type(node).__name__}")


def _parse_value(text: str) -> Any:
    """YAML scalars, lists and mappings; text that is not YAML stays the string it is."""
    try:
        return read_yaml(text)
    except yaml.YAMLError:
        return text


def _child(node: Any, part: str, key: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, key)]
    if isinstance(node, dict):
        return node.setdefault(part, {})
    raise XltError(f"--set {key}: {part!r} is inside a {type(node).__name__}, not a mapping or list")


def _index(items: list, part: str, key: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name", item.get("task")) == part:
            return i
    raise XltError(f"--set {key}: no list item {part!r} (use an index below {len(items)} or an item's name)")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
