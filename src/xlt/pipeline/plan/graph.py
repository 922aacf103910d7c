"""Expand a study into stages, each addressed by a hash of everything that determines its output.

A training stage's hash covers its task, languages, mixing, budget, resolved method options, head
options, seed, the model and data identity (and, for a pair task on an encoder that embeds token types, that
its features carry them), and its parent's hash, so changing a hyperparameter
changes exactly the stages downstream of it, and identical stages (an intermediate stage shared by
several targets) collapse into one directory that is trained once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlt.config import MethodConfig, Study, TargetConfig, Training, oracle_label
from xlt.kinds import HeadOptions, get_kind
from xlt.methods import MethodOptions
from xlt.pipeline.plan import carry
from xlt.results.layout import CHECKPOINT
from xlt.runtime.io import stable_hash
from xlt.tasks import TaskSpec, get_task

if TYPE_CHECKING:
    from xlt.pipeline.plan.resources import Resources

PLAN_VERSION = 2  # bump when a change to training or evaluation code changes stage outputs (see CHANGELOG.md)


def checkpoint_name(criterion: str) -> str:
    """The directory of the checkpoint a selection criterion keeps ("dev" keeps the stage's own)."""
    return CHECKPOINT if criterion == "dev" else f"{CHECKPOINT}-{criterion}"


def criterion_of(checkpoint: str) -> str:
    """The selection criterion whose checkpoint this is (the stage's own checkpoint: "dev", or its last step)."""
    return "dev" if checkpoint == CHECKPOINT else checkpoint.removeprefix(f"{CHECKPOINT}-")


@dataclass(frozen=True)
class TrainStage:
    role: str  # "intermediate" or "target" (a chain's earlier tasks are target stages too)
    task: str
    languages: tuple[str, ...]
    temperature: float
    training: Training
    method: str  # registered method type
    method_options: MethodOptions
    head_options: HeadOptions
    seed: int
    parent: str | None
    identity: dict  # model and data identity
    # target-dev selection: the evaluated task's languages whose dev sets pick the oracle checkpoint
    oracle_languages: tuple[str, ...] = ()
    # what the stage is for, named in its description and not in its hash (recipes that train the same stage
    # share it): the method's label in the study, and the intermediate condition it trains or follows
    label: str = ""
    intermediate: str = "none"
    # a pair task on an encoder that embeds token types: its features carry the pair's (before, all were 0)
    token_types: bool = False
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        named = ("hash", "label", "intermediate")
        payload = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in named}
        # fields added later join the hash only when set: older hashes stay valid
        for late in ("oracle_languages", "token_types"):
            if not payload[late]:
                del payload[late]
        unset = {"select"} if self.training.select is None else set()
        payload["training"] = self.training.model_dump(mode="json", exclude={"checkpoint_every", *unset})
        payload["method_options"] = self.method_options.model_dump(mode="json")
        if self.method_options.weight_decay:  # biases and LayerNorm tensors spared since: not the old stages
            payload["decay_rule"] = "spares biases and norms"
        payload["head_options"] = self.head_options.model_dump(mode="json")
        object.__setattr__(self, "hash", stable_hash({"v": PLAN_VERSION, "train": payload}))

    def describe(self) -> str:
        recipe = f"{self.label or self.method} / {self.intermediate}"
        return f"{self.role} {self.task} [{'+'.join(self.languages)}] {recipe} seed {self.seed}"


@dataclass(frozen=True)
class EvalStage:
    label: str  # the method's label (results.csv's `method`), or a reference name ("majority", "random_init")
    intermediate: str
    task: str
    train_languages: tuple[str, ...]
    languages: tuple[str, ...]
    split: str
    seed: int
    source: str | None  # hash of the training stage evaluated; None for the majority reference
    identity: dict
    batch_size: int
    max_length: int
    head_options: HeadOptions | None = None  # the evaluated task's head (retrieval: layer, pooling)
    checkpoint: str = CHECKPOINT  # which of the source stage's checkpoints (target-dev: the oracle's)
    token_types: bool = False  # as TrainStage's: its features carry a pair's token types
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        fields = ("task", "train_languages", "languages", "split", "source", "max_length")
        payload = {k: getattr(self, k) for k in fields}
        payload["head_options"] = self.head_options.model_dump(mode="json") if self.head_options else {}
        if self.checkpoint != CHECKPOINT:
            # version 2: evaluations read the checkpoint they name (before, an oracle row was scored from the
            # dev-selected checkpoint), so an oracle evaluation made before that is not reused
            payload["checkpoint"] = {"name": self.checkpoint, "version": 2}
        if self.source is None:
            payload["identity"] = self.identity
        if self.token_types:  # set only then, as the checkpoint: the other hashes stay
            payload["token_types"] = True
        object.__setattr__(self, "hash", stable_hash({"v": PLAN_VERSION, "eval": payload}))

    @property
    def result_hash(self) -> str:
        """The hash a result row carries: the training stage's, or this stage's for an untrained reference."""
        return self.source or self.hash


@dataclass
class Plan:
    train: dict[str, TrainStage]  # parents before children
    evals: list[EvalStage]

    @property
    def training_runs(self) -> int:
        return len(self.train)


def build_plan(study: Study, identity: dict, token_types: bool = False) -> Plan:
    """`token_types`: whether the encoder embeds token types (`Family.token_types`), which its pair tasks' stages
    then name."""
    train: dict[str, TrainStage] = {}
    evals: list[EvalStage] = []
    recipes = [(m, m.name) for m in study.methods]
    if "random_init" in study.references:
        recipes.append((_random_init(study), "random_init"))
    for seed in study.seeds:
        for target in (branch for configured in study.targets for branch in configured.branches()):
            spec = get_task(target.task)
            eval_languages = _eval_languages(study, target, spec)
            for method, label in recipes:
                conditions = ["none"] if label == "random_init" else target.intermediate
                for condition in conditions:
                    parent = _intermediate_stage(study, condition, method, target, seed, identity, token_types)
                    if parent is not None:
                        train.setdefault(parent.hash, parent)
                    stages = _target_stages(
                        target, spec, method, condition, seed, parent, identity, eval_languages, token_types
                    )
                    for stage in stages:
                        train.setdefault(stage.hash, stage)
                        parent = stage
                    assert parent is not None  # a target has at least one stage
                    for criterion in _criteria(target.training):
                        evals.append(
                            EvalStage(
                                oracle_label(label) if criterion == "target-dev" else label,
                                condition,
                                target.task,
                                tuple(target.train_languages),
                                eval_languages,
                                target.split,
                                seed,
                                parent.hash,
                                identity,
                                target.training.eval_batch_size,
                                target.training.max_length,
                                target.head_options,
                                checkpoint_name(criterion),
                                _typed(target.task, token_types),
                            )
                        )
            if "majority" in study.references:
                evals.append(
                    EvalStage(
                        "majority",
                        "none",
                        target.task,
                        tuple(target.train_languages),
                        eval_languages,
                        target.split,
                        seed,
                        None,
                        identity,
                        target.training.eval_batch_size,
                        target.training.max_length,
                    )
                )
    return Plan(train, evals)


def study_plan(study: Study, resources: Resources) -> Plan:
    """The study's plan on its resources: the encoder's identity and the precision name every stage."""
    return build_plan(study, {**resources.identity, "mixed_precision": study.mixed_precision}, resources.token_types)


def unique_evals(plan: Plan) -> list[EvalStage]:
    """The plan's evaluations, each stage once (two recipes can read the same evaluation)."""
    return list({ev.hash: ev for ev in plan.evals}.values())


def _typed(task: str, token_types: bool) -> bool:
    """Whether the task's features carry token types: a pair kind's, on an encoder that embeds them."""
    return token_types and get_kind(get_task(task).kind).pairs


def _intermediate_stage(study, condition, method, target, seed, identity, token_types) -> TrainStage | None:
    if condition == "none":
        return None
    cond = next(c for c in study.intermediate if c.name == condition)
    languages = cond.languages
    if languages == "train":
        languages = target.train_languages
    elif languages == "all":
        languages = list(_languages(study, get_task(cond.task)))
    return TrainStage(
        "intermediate",
        cond.task,
        tuple(languages),
        cond.temperature,
        cond.training,
        method.method_type,
        method.resolved,
        cond.head_options,
        seed,
        None,
        identity,
        label=method.name,
        intermediate=condition,
        token_types=_typed(cond.task, token_types),
    )


def _target_stages(
    target: TargetConfig,
    spec: TaskSpec,
    method: MethodConfig,
    condition: str,
    seed: int,
    parent: TrainStage | None,
    identity: dict,
    eval_languages: tuple[str, ...],
    token_types: bool,
) -> list[TrainStage]:
    """The stages that train a target: its training task, after the earlier tasks of its chain, each the
    parent of the next (the first one's parent is the intermediate stage, if any)."""
    stages = []
    oracle = eval_languages if "target-dev" in _criteria(target.training) else ()
    for task in spec.training_tasks:
        head = carry.training_head(target.head_options, spec.kind, get_task(task).kind)
        parent = TrainStage(
            "target",
            task,
            tuple(target.train_languages),
            target.temperature,
            target.training,
            method.method_type,
            method.resolved,
            head,
            seed,
            parent.hash if parent else None,
            identity,
            oracle if task == target.task else (),
            method.name,
            condition,
            _typed(task, token_types),
        )
        stages.append(parent)
    return stages


def _criteria(training: Training) -> list[str]:
    """The checkpoints a target's evaluation reads: its selection criteria, or the last step's."""
    return list(training.select.on) if training.select is not None else ["dev"]


def _random_init(study: Study) -> MethodConfig:
    """The "no pretraining" reference: full fine-tuning of the same architecture from random weights."""
    finetune = next((m for m in study.methods if m.method_type == "finetune"), None)
    options = dict(finetune.options) if finetune else {}
    return MethodConfig(name="random_init", type="finetune", options={**options, "init": "random"})


def _languages(study: Study, spec) -> tuple[str, ...]:
    return spec.eval_languages(study.benchmark if study.benchmark in spec.languages else None)


def _eval_languages(study: Study, target, spec) -> tuple[str, ...]:
    return _languages(study, spec) if target.eval_languages == "all" else tuple(target.eval_languages)
