"""Evaluation throughput: one model's zero-shot sweep over every UD-POS test language in ../shared/data,
xlt's evaluation stage against a per-language loop of transformers' `Trainer.predict`, side by side.

    python bench/eval.py [--languages all|en,de,...] [--repeats 3]

The model is xlt's fine-tuned tagger (the XLM-R-shaped encoder of bench/train.py, 10 training steps, its BPE
tokenizer trained on English UD-POS and Tatoeba's 112 languages, so that every script is split into subwords as
XLM-R's vocabulary splits it) for every contender; batches of 64, inputs up to 128 tokens. Contenders:
  xlt                 `xlt.pipeline.stage.evaluate.evaluate_stage`: features from the cache, batches sorted by length,
                      decoding, the official metrics, per-example units and XTREME-layout prediction files
  Trainer (papers)    per language, `Trainer.predict` on features padded to the maximum length
  Trainer (tuned)     the same with dynamic padding (each batch padded to its longest)
Both Trainer loops decode with xlt's decoder and score with xlt's scorer (`xlt.metrics`), write nothing, and
get their padded datasets built outside the timing. The script also prints how many tokens each way runs: on a
CPU, where a token's cost barely depends on the batch's shape, their ratio bounds `eval_speedup`.
"""

from __future__ import annotations

import argparse
import shutil

import torch

import baselines
import common
from train import TrainerModel
from xlt.kinds import get_kind
from xlt.metrics import SCORERS
from xlt.tasks import get_task


def languages(choice: str) -> list[str]:
    present = sorted(path.stem.removeprefix("test-") for path in (common.data_dir() / "udpos").glob("test-*.tsv"))
    return present if choice == "all" else [lang for lang in choice.split(",") if lang in present]


def token_counts(run: common.XltRun, langs: list[str]) -> tuple[int, int]:
    """Tokens of the sweep's features as they are, and padded to the maximum length."""
    ev = run.plan.evals[0]
    spec = get_task(ev.task)
    lengths = [
        len(feature["input_ids"])
        for lang in langs
        for feature in run.context(fresh=False).features(
            spec, get_kind(spec.kind), spec.load("test", lang, run.resources.data_dir), "test", lang, ev.max_length
        )
    ]
    return sum(lengths), ev.max_length * len(lengths)


def trainer_sweep(run: common.XltRun, langs: list[str], padded: bool):
    """A per-language loop of Trainer.predict over xlt's model, decoded and scored as xlt does."""
    from transformers import DataCollatorWithPadding, Trainer, default_data_collator

    from xlt.model import load_trainable
    from xlt.pipeline.stage.build import build_task_model, load_tokenizer

    stage, ev = run.stage, run.plan.evals[0]
    spec, kind = get_task(ev.task), get_kind(get_task(ev.task).kind)
    tokenizer = load_tokenizer(run.resources)
    sets = {}
    for lang in langs:
        examples = spec.load("test", lang, run.resources.data_dir)
        features = run.context(fresh=False).features(spec, kind, examples, "test", lang, ev.max_length)
        dataset = baselines.as_dataset(
            features,
            ("input_ids", "attention_mask"),
            ev.max_length if padded else None,
            {"input_ids": tokenizer.pad_token_id},
        )
        sets[lang] = (examples, features, dataset)
    collator = default_data_collator if padded else DataCollatorWithPadding(tokenizer)

    def sweep():
        model = build_task_model(stage.method, stage.method_options, spec, ev.head_options, run.resources, 0)
        load_trainable(model, run.context(fresh=False).stage_dir(stage.hash) / "checkpoint")
        args = baselines.trainer_arguments(run.work / "trainer", 1, 32, 1e-5, 0.0, False, run.precision, ev.batch_size)
        trainer = Trainer(model=TrainerModel(model.eval(), kind), args=args, data_collator=collator)
        for lang, (examples, features, dataset) in sets.items():
            logits = torch.from_numpy(trainer.predict(dataset).predictions)
            predictions = kind.decode(list(logits.unbind(0)), features, examples, spec)
            SCORERS[spec.scorer](predictions, [kind.gold(e, spec) for e in examples], lang)

    return sweep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--languages", default="all")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    langs = languages(args.languages)
    work = common.workdir("eval")
    model = common.make_encoder(work / "encoder", common.multilingual_text())
    training = {"steps": 10, "batch_size": 32, "max_length": 128, "eval_batch_size": 64}
    run = common.XltRun(work / "xlt", model, common.data_dir(), "udpos", "finetune", {"lr": 5e-5}, training, langs)
    run.train()
    trained = run.context(fresh=False)
    from xlt.pipeline.stage.evaluate import evaluate_stage

    def xlt_sweep():
        shutil.rmtree(trained.stage_dir(run.plan.evals[0].hash), ignore_errors=True)
        evaluate_stage(run.plan.evals[0], run.stage, trained)

    common.log(f"{len(langs)} languages; building the Trainer's datasets")
    contenders = {
        "xlt": xlt_sweep,
        "Trainer (papers: max-length padding)": trainer_sweep(run, langs, True),
        "Trainer (tuned: dynamic padding)": trainer_sweep(run, langs, False),
    }
    smallest = min(langs, key=lambda lang: (common.data_dir() / "udpos" / f"test-{lang}.tsv").stat().st_size)
    warmup = {
        "xlt": xlt_sweep,
        f"Trainer (papers) on {smallest}": trainer_sweep(run, [smallest], True),
        f"Trainer (tuned) on {smallest}": trainer_sweep(run, [smallest], False),
    }
    times = common.compare(contenders, args.repeats, warmup)
    figures = {
        "eval_speedup": common.ratio(times, "Trainer (papers: max-length padding)", "xlt"),
        "eval_vs_tuned": common.ratio(times, "Trainer (tuned: dynamic padding)", "xlt"),
    }
    tokens, padded = token_counts(run, langs)
    note = f"tokens: {tokens:,} in the features, {padded:,} padded to the maximum: {padded / tokens:.2f} times as many"
    common.report(f"evaluation: UD-POS test, {len(langs)} languages ({','.join(langs)})", times, figures, [note])
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
