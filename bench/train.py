"""Training throughput: xlt's training stage against transformers' `Trainer` on the same encoder, features,
batch size, steps and schedule, fine-tuning and deep prompt tuning, side by side in one process.

    python bench/train.py [--task udpos|qa] [--methods finetune,deep_prompt] [--steps 60] [--repeats 3]

udpos: real UD-POS English (../shared/data/udpos/train-en.tsv), max length 128. qa: XQuAD-length inputs
(the English XQuAD questions, 384-token windows) as SQuAD training data. The encoder is XLM-R shaped
(4 layers, hidden 256, random weights, a BPE tokenizer trained on the task's text). Contenders:
  xlt                 `xlt.pipeline.stage.train.train_stage` (model load, cached features, the loop, the checkpoint)
  Trainer (papers)    every feature padded to the maximum length, random batches (Tu et al., P-tuning v2, XTREME)
  Trainer (tuned)     dynamic padding and train_sampling_strategy="group_by_length" (transformers' own)
  Trainer + PEFT      deep prompts: PEFT's PrefixTuningConfig, tuned Trainer, in a child process under
                      `--peft-python` (a transformers 4 environment: bench/peft_prefix.py says why)
Both Trainer setups train the same model as xlt: the Hugging Face head (`AutoModelFor...`) for fine-tuning,
xlt's deep-prompt model itself for prompts. Times include building the model; the Trainer's datasets are
built once outside the timing (xlt reads its features from its cache inside it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import torch
from torch import nn

import baselines
import common
from xlt.kinds import get_kind
from xlt.tasks import get_task

PROMPT = {"prompt_length": 16, "steps_scale": 1.0}  # the steps of every contender are the same
PEFT = "Trainer + PEFT prefix tuning (tuned)"


class TrainerModel(nn.Module):
    """An xlt task model as the Trainer drives one: keyword inputs in, {"loss", "logits"} out."""

    def __init__(self, model: nn.Module, kind):
        super().__init__()
        self.model, self.kind = model, kind

    def forward(self, input_ids, attention_mask, labels=None, start_positions=None, end_positions=None):
        batch = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "start_positions": start_positions,
            "end_positions": end_positions,
        }
        outputs = self.model(batch)
        if labels is None and start_positions is None:  # Trainer.predict on unlabelled features
            return {"logits": outputs}
        return {"loss": self.kind.loss(outputs, batch), "logits": outputs}


def setup(task: str, work):
    """(data dir, model dir, xlt target task, its features, label count, max length)."""
    data = common.data_dir()
    if task == "udpos":
        texts, target, max_length = common.udpos_words(), "udpos", 128
    else:  # XQuAD's English questions, in SQuAD's layout, as the training set
        data = work / "data"
        (data / "squad").mkdir(parents=True)
        shutil.copy(common.SHARED_DATA / "xquad" / "xquad.en.json", data / "squad" / "train-v1.1.json")
        paragraphs = json.loads((data / "squad" / "train-v1.1.json").read_text())["data"]
        texts = [p["context"] for article in paragraphs for p in article["paragraphs"]]
        target, max_length = "xquad", 384
    model = common.make_encoder(work / "encoder", texts)
    common.log(f"encoder and tokenizer in {model}")
    return data, model, target, max_length


def xlt_runner(work, model, data, target, method, steps, batch_size, max_length):
    options = {"lr": 5e-5} if method == "finetune" else PROMPT
    training = {"steps": steps, "batch_size": batch_size, "max_length": max_length, "checkpoint_every": 10**6}
    return common.XltRun(work / f"xlt-{method}-{steps}", model, data, target, method, options, training)


def trainer_contenders(
    run: common.XltRun, model_dir, method: str, steps: int, batch_size: int, max_length: int, peft_python: str | None
):
    """The Trainer setups for `method`, each a function that builds its model and trains `steps` steps."""
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        Trainer,
        default_data_collator,
    )

    stage = run.stage
    spec, kind = get_task(stage.task), get_kind(get_task(stage.task).kind)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples = spec.load("train", "en", run.resources.data_dir)
    features = run.context(fresh=False).features(spec, kind, examples, "train", "en", max_length)
    tagging = kind.name == "tagging"
    keys = (
        ("input_ids", "attention_mask", "labels")
        if tagging
        else ("input_ids", "attention_mask", "start_positions", "end_positions")
    )
    common.log(f"{len(features)} {stage.task} features")
    padded = baselines.as_dataset(features, keys, max_length, {"labels": -100, "input_ids": tokenizer.pad_token_id})
    dynamic = baselines.as_dataset(features, keys)
    collator = DataCollatorForTokenClassification(tokenizer) if tagging else DataCollatorWithPadding(tokenizer)
    options = stage.method_options

    def hf_model():
        if tagging:
            return AutoModelForTokenClassification.from_pretrained(model_dir, num_labels=len(spec.labels))
        return AutoModelForQuestionAnswering.from_pretrained(model_dir)

    def xlt_model():
        from xlt.pipeline.stage.build import build_task_model

        return TrainerModel(
            build_task_model(stage.method, options, spec, stage.head_options, run.resources, stage.seed), kind
        )

    def train(build, grouped: bool, dataset, data_collator):
        def run_trainer():
            args = baselines.trainer_arguments(
                run.work / "trainer", steps, batch_size, options.lr, options.warmup_ratio, grouped, run.precision
            )
            Trainer(model=build(), args=args, train_dataset=dataset, data_collator=data_collator).train()

        return run_trainer

    model = hf_model if method == "finetune" else xlt_model
    contenders = {
        "Trainer (papers: max-length padding)": train(model, False, padded, default_data_collator),
        "Trainer (tuned: dynamic padding, group_by_length)": train(model, True, dynamic, collator),
    }
    if method == "deep_prompt" and peft_python:
        contenders[PEFT] = peft_contender(run, model_dir, features, keys, len(spec.labels), steps, batch_size,
                                          peft_python)  # fmt: skip
    return contenders


def peft_contender(run: common.XltRun, model_dir, features, keys, labels: int, steps: int, batch_size: int, python):
    """PEFT prefix tuning (P = 16) on the tuned Trainer, in a child process under `python` (bench/peft_prefix.py
    says why), which times itself: its model build and training, after a warm-up run of its own."""
    path = run.work / f"peft-features-{steps}.json"
    path.write_text(json.dumps([{key: feature[key] for key in keys} for feature in features]))
    options = run.stage.method_options
    task = "tagging" if "labels" in keys else "qa"
    command = [
        python, str(Path(__file__).with_name("peft_prefix.py")), "--model", str(model_dir), "--features", str(path),
        "--task", task, "--labels", str(labels), "--prefix", str(PROMPT["prompt_length"]), "--steps", str(steps),
        "--batch-size", str(batch_size), "--lr", str(options.lr), "--warmup-ratio", str(options.warmup_ratio),
        "--precision", run.precision, "--threads", str(torch.get_num_threads()),
    ]  # fmt: skip

    def run_child() -> common.Seconds:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{PEFT} failed: {(done.stderr.strip() or done.stdout.strip()).splitlines()[-1]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        common.log(f"{PEFT}: transformers {result['transformers']}, peft {result['peft']}")
        return common.Seconds(result["seconds"])

    return run_child


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=("udpos", "qa"), default="udpos")
    parser.add_argument("--methods", default="finetune,deep_prompt")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--peft-python", help="a Python with transformers 4.x and peft, for pt_vs_peft (README)")
    args = parser.parse_args()
    work = common.workdir("train")
    data, model, target, max_length = setup(args.task, work)
    figures: dict[str, float] = {}
    warmups: dict = {}
    contenders: dict = {}
    for method in args.methods.split(","):
        for steps, into in ((args.warmup_steps, warmups), (args.steps, contenders)):
            run = xlt_runner(work, model, data, target, method, steps, args.batch_size, max_length)
            into[f"xlt {method}"] = run.train
            for name, contender in trainer_contenders(
                run, model, method, steps, args.batch_size, max_length, args.peft_python
            ).items():
                into[f"{name} {method}"] = contender
    times = common.compare(contenders, args.repeats, warmups)
    for method in args.methods.split(","):
        label = "ft" if method == "finetune" else "pt"
        ours = f"xlt {method}"
        figures[f"train_speedup_{label}"] = common.ratio(times, f"Trainer (papers: max-length padding) {method}", ours)
        figures[f"train_vs_tuned_{label}"] = common.ratio(
            times, f"Trainer (tuned: dynamic padding, group_by_length) {method}", ours
        )
    if f"{PEFT} deep_prompt" in times:
        figures["pt_vs_peft"] = common.ratio(times, f"{PEFT} deep_prompt", "xlt deep_prompt")
    common.report(
        f"training: {args.task}, {args.steps} steps of batch {args.batch_size}, max length {max_length}",
        times,
        figures,
        [f"work directory {work}"],
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
