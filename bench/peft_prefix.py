"""PEFT's prefix tuning on the tuned `Trainer`: bench/train.py's `pt_vs_peft` contender, run as a child process
so that it can run under another Python than xlt's.

PEFT hands its prefixes to the backbone as `past_key_values` and looks for that argument in the backbone's
`forward` signature. transformers 5 no longer lists it there for XLM-R (it still takes it as a deprecated keyword),
so PEFT 0.21 refuses ("Model does not support past key values which are required for prefix tuning");
transformers 4.57 still lists it. So train.py runs this script under `--peft-python`, a
Python whose transformers is 4.x (see bench/README.md), and this script imports nothing of xlt (which needs
transformers >= 5). It loads the same encoder directory and the same features as the other contenders, trains a
short warm-up run, then the timed run (building the model and training), and prints one JSON line: the seconds
by `baselines.clock` and the library versions.
"""

from __future__ import annotations

import argparse
import inspect
import json
import tempfile
from pathlib import Path

import torch

from baselines import as_dataset, clock, trainer_arguments

KEYS = {
    "tagging": ("input_ids", "attention_mask", "labels"),
    "qa": ("input_ids", "attention_mask", "start_positions", "end_positions"),
}


def model_builder(model_dir: str, task: str, labels: int, prefix: int):
    from peft import PrefixTuningConfig, TaskType, get_peft_model
    from transformers import AutoModel, AutoModelForQuestionAnswering, AutoModelForTokenClassification

    backbone = type(AutoModel.from_pretrained(model_dir))
    if "past_key_values" not in inspect.signature(backbone.forward).parameters:
        import transformers

        raise SystemExit(
            f"PEFT prefix tuning cannot run here: {backbone.__name__}.forward takes no past_key_values in "
            f"transformers {transformers.__version__}; give --peft-python a Python with transformers 4.x"
        )

    def build():
        if task == "tagging":
            model = AutoModelForTokenClassification.from_pretrained(model_dir, num_labels=labels)
        else:
            model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
        task_type = TaskType.TOKEN_CLS if task == "tagging" else TaskType.QUESTION_ANS
        return get_peft_model(model, PrefixTuningConfig(task_type=task_type, num_virtual_tokens=prefix))

    return build


def padding_tokenizer(model_dir: str):
    """The encoder's tokenizer, for the collators' padding: transformers 5 saves its class as
    `TokenizersBackend`, which transformers 4 does not know, so it is loaded from tokenizer.json."""
    from transformers import PreTrainedTokenizerFast

    specials = json.loads((Path(model_dir) / "tokenizer_config.json").read_text())
    tokenizer_file = str(Path(model_dir) / "tokenizer.json")
    return PreTrainedTokenizerFast(tokenizer_file=tokenizer_file, pad_token=specials["pad_token"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--features", required=True, help="a JSON list of the training features")
    parser.add_argument("--task", choices=tuple(KEYS), required=True)
    parser.add_argument("--labels", type=int, default=2)
    parser.add_argument("--prefix", type=int, default=16)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--warmup-ratio", type=float, default=0.0)
    parser.add_argument("--precision", default="no")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import peft
    import transformers
    from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding, Trainer

    build = model_builder(args.model, args.task, args.labels, args.prefix)
    tokenizer = padding_tokenizer(args.model)
    dataset = as_dataset(json.loads(Path(args.features).read_text()), KEYS[args.task])
    tagging = args.task == "tagging"
    collator = DataCollatorForTokenClassification(tokenizer) if tagging else DataCollatorWithPadding(tokenizer)

    def train(steps: int, out: str) -> float:
        started = clock()
        training = trainer_arguments(Path(out), steps, args.batch_size, args.lr, args.warmup_ratio, True,
                                     args.precision)  # fmt: skip
        Trainer(model=build(), args=training, train_dataset=dataset, data_collator=collator).train()
        return clock() - started

    with tempfile.TemporaryDirectory() as out:
        train(args.warmup_steps, out)
        seconds = train(args.steps, out)
    print(json.dumps({"seconds": seconds, "transformers": transformers.__version__, "peft": peft.__version__}))


if __name__ == "__main__":
    main()
