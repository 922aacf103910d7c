"""The bad-input corpus: every entry is a small setup and an `xlt` command as a user types it.

Each must end with exit status 2, exactly one line on stderr of the form "error: ..." that names the
file (and line) or field at fault, no traceback, and nothing written: no study directory, no encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from in_process import run_xlt
from xlt import cli

DEMO = Path(cli.DEMO_CONFIG)


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Setup], list[str]]  # the command after `xlt`
    expect: str  # what the line says (with {root} for the case's folder)
    damage: Callable[[Setup], None] = lambda setup: None  # changes the valid data folder
    env: dict = field(default_factory=dict)


@dataclass
class Setup:
    root: Path  # the case's folder: data/ (valid release files, then damaged), out/ (must stay absent)
    model: Path  # a tiny local encoder

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def study(self, task: str, eval_languages: list[str], **changes) -> str:
        """A study of `task` on the data folder with the tiny encoder; returns its config path."""
        raw = {
            "name": "bad",
            "model": {"name_or_path": str(self.model)},
            "data": {"dir": str(self.data)},
            "methods": [{"name": "finetune"}],
            "output_dir": str(self.out),
            "targets": [{"task": task, "eval_languages": eval_languages, "training": {"steps": 1}}],
        }
        raw.update(changes)
        return self.config(raw)

    def config(self, raw: dict, text: str | None = None) -> str:
        path = self.root / "study.yaml"
        path.write_text(text if text is not None else yaml.safe_dump(raw))
        return str(path)


# ---- a valid data folder in the release formats ---------------------------------------------------------

CONLL = "The\tDET\ncat\tNOUN\nsleeps\tVERB\n.\tPUNCT\n\n"
PAIRS = "A man sleeps .\tA person rests .\tentailment\nA man sleeps .\tNobody sleeps .\tcontradiction\n"
COPA = {"premise": "The man fell .", "choice1": "He slipped .", "choice2": "He sang .", "question": "cause", "label": 0}
SIQA = {
    "context": "Anna gave Omar a gift .",
    "question": "How does Omar feel ?",
    "answerA": "happy",
    "answerB": "sad",
    "answerC": "tired",
}


def squad(question_id: str = "q1") -> dict:
    qa = {"id": question_id, "question": "Where does Anna live ?", "answers": [{"text": "Bonn", "answer_start": 14}]}
    paragraph = {"context": "Anna lives in Bonn .", "qas": [qa]}
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [paragraph]}]}


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def write_valid_data(data: Path) -> None:
    files = {
        **{f"udpos/{name}.tsv": CONLL * 3 for name in ("train-en", "test-en", "test-de")},
        **{f"xnli/{name}.tsv": PAIRS * 3 for name in ("train-en", "test-en", "test-de")},
        "squad/train-v1.1.json": json.dumps(squad()),
        **{f"xquad/xquad.{lang}.json": json.dumps(squad(f"{lang}1")) for lang in ("en", "de")},
        "siqa/socialiqa-train-dev/train.jsonl": jsonl([SIQA] * 4),
        "siqa/socialiqa-train-dev/train-labels.lst": "1\n2\n3\n1\n",
        "xcopa/train.en.jsonl": jsonl([{**COPA, "idx": i} for i in range(4)]),
        **{f"xcopa/{lang}/test.{lang}.jsonl": jsonl([{**COPA, "idx": i} for i in range(4)]) for lang in ("et", "it")},
        **{
            f"tatoeba/tatoeba.{lang}-eng.{side}": "a cat .\na dog .\n"
            for lang in ("deu", "fra")
            for side in (lang, "eng")
        },
    }
    for name, text in files.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(text, encoding="utf-8")


def put(name: str, content: str | bytes) -> Callable[[Setup], None]:
    def damage(setup: Setup) -> None:
        path = setup.data / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")

    return damage


def remove(name: str) -> Callable[[Setup], None]:
    return lambda setup: (setup.data / name).unlink()


def cut(name: str, keep: float = 0.6) -> Callable[[Setup], None]:
    """Truncate a file, as a download or copy cut short."""

    def damage(setup: Setup) -> None:
        text = (setup.data / name).read_bytes()
        (setup.data / name).write_bytes(text[: int(len(text) * keep)])

    return damage


def demo(*sets: str) -> Callable[[Setup], list[str]]:
    return lambda s: ["demo", "--quick", "--out", str(s.out), *(arg for item in sets for arg in ("--set", item))]


def run(task: str, languages: list[str], **changes) -> Callable[[Setup], list[str]]:
    return lambda s: ["run", s.study(task, languages, **changes)]


def run_config(text: str) -> Callable[[Setup], list[str]]:
    return lambda s: ["run", s.config({}, text.replace("OUT", str(s.out)))]


def score(*extra: str) -> Callable[[Setup], list[str]]:
    return lambda s: ["score", "--predictions", str(s.data / "predictions"), "--labels", str(s.data / "labels"), *extra]


def write_submissions(data: Path) -> None:
    for side in ("predictions", "labels"):
        for lang in ("en", "de"):
            (data / side / "xnli").mkdir(parents=True, exist_ok=True)
            (data / side / "xnli" / f"test-{lang}.tsv").write_text("entailment\ncontradiction\n")
            (data / side / "xquad").mkdir(parents=True, exist_ok=True)
    (data / "labels" / "xquad" / "test-en.json").write_text(json.dumps(squad("en1")))
    (data / "predictions" / "xquad" / "test-en.json").write_text(json.dumps({"en1": "Bonn"}))


def submissions(change: Callable[[Setup], None] = lambda setup: None) -> Callable[[Setup], None]:
    return lambda setup: (write_submissions(setup.data), change(setup))


def pretrain(*files: str) -> Callable[[Setup], list[str]]:
    return lambda s: ["pretrain", *(f.replace("DATA", str(s.data)) for f in files), "--out", str(s.out)]


def model_dir(kind: str) -> Callable[[Setup], None]:
    """An encoder folder that must not load: pickled weights only, or code that needs trust_remote_code."""

    def damage(setup: Setup) -> None:
        import shutil

        import torch

        model = setup.data / "model"
        shutil.copytree(setup.model, model)
        if kind == "pickle":
            torch.save({}, model / "pytorch_model.bin")
            (model / "model.safetensors").unlink()
        else:
            config = json.loads((model / "config.json").read_text())
            config["model_type"] = "evil-roberta"  # a type transformers does not know: only the folder's code has it
            config["auto_map"] = {"AutoModel": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
            (model / "config.json").write_text(json.dumps(config))
            (model / "evil.py").write_text(f"open({str(setup.data / 'PWNED')!r}, 'w').write('ran')\n")

    return damage


NON_UTF8 = b"caf\xe9\tNOUN\n\n"


def run_model_dir(s: Setup) -> list[str]:
    return ["run", s.study("udpos", ["en"], model={"name_or_path": str(s.data / "model")})]


def non_utf8_config(s: Setup) -> list[str]:
    path = s.root / "study.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    return ["run", str(path)]


CASES = [
    # ---- configs, at every depth -------------------------------------------------------------------------
    Case(
        "pretrain option type (demo)",
        demo("model.pretrain.options.max_steps=fast"),
        "model.pretrain.options.max_steps: found 'fast'",
    ),
    Case("pretrain option unknown", demo("model.pretrain.options.depth=3"), "model.pretrain.options.depth: unknown"),
    Case("method option type", demo("methods.finetune.options.lr=fast"), "methods.0.options.lr: found 'fast'"),
    Case("method option unknown", demo("methods.deep_prompt.options.rank=4"), "methods.1.options.rank: unknown"),
    Case("head option value", demo("targets.synth-nli.head.pooling=sideways"), "targets.0.head.pooling"),
    Case("head option unknown", demo("targets.synth-pos.head.colour=1"), "targets.1.head.colour: unknown"),
    Case("benchmark sizes", demo("data.synthetic.sizes.train=lots"), "data.synthetic.sizes.train: found 'lots'"),
    Case("unknown method", demo("methods.0.name=finetun"), "unknown method 'finetun'; did you mean 'finetune'?"),
    Case("unknown task", demo("targets.0.task=synth-nl"), "unknown task 'synth-nl'; did you mean 'synth-nli'?"),
    Case(
        "unknown intermediate condition",
        demo("targets.0.intermediate=[none, multilingul]"),
        "'multilingul' is not a defined intermediate condition; did you mean 'multilingual'?",
    ),
    Case(
        "unknown train language",
        demo("targets.0.train_languages=[bsae]"),
        "targets.0.train_languages: found 'bsae'; synth-nli has languages",
    ),
    Case("unknown eval language", demo("targets.0.eval_languages=[cyrll]"), "did you mean 'cyrl'?"),
    Case("unknown benchmark", demo("benchmark=synthetik"), "did you mean 'synthetic'?"),
    Case("negative steps", demo("targets.0.training.steps=-3"), "targets.0.training.steps: found -3"),
    Case("steps and epochs", demo("targets.0.training.epochs=2"), "exactly one of steps and epochs"),
    Case("seeds type", demo("seeds=zero"), "seeds: found 'zero'"),
    Case("unknown field", demo("colour=blue"), "colour: unknown field"),
    Case("unknown reference", demo("references=[oracle]"), "references.0: found 'oracle'"),
    Case("mixed precision", demo("mixed_precision=fp8"), "mixed_precision: found 'fp8'"),
    Case("--set without =", demo("seeds"), "--set 'seeds': expected key=value"),
    Case("--set unknown item", demo("methods.lora.options.r=4"), "no list item 'lora'"),
    Case("config file missing", lambda s: ["run", str(s.root / "nope.yaml")], "nope.yaml: no such config file"),
    Case("config not YAML", run_config("name: [unclosed\n"), "not valid YAML"),
    Case(
        "config YAML error located",
        run_config("name: tiny\nseeds: [0\nmodel: {}\n"),
        "study.yaml, line 3, column 6: not valid YAML (expected ',' or ']', but got ':')",
    ),
    Case(
        "misspelt required field",
        run_config(
            "model: {name_or_path: x}\nmethods: [{name: finetune}]\ntargets: [{task: xnli, traning: {steps: 1}}]\n"
        ),
        "targets.0.traning: unknown field; did you mean 'training'?",
    ),
    Case("config not a mapping", run_config("- a\n- b\n"), "a study config is a mapping of fields, found list"),
    Case("config not UTF-8", non_utf8_config, "study.yaml: not valid YAML"),
    # ---- data files in each release format ---------------------------------------------------------------
    Case(
        "missing training file",
        run("udpos", ["en"]),
        "no udpos train data for language 'en'",
        remove("udpos/train-en.tsv"),
    ),
    Case(
        "missing language file",
        run("xnli", ["en", "de"]),
        "does not exist; it holds test files for en. Leave the language out with the target's eval_languages",
        remove("xnli/test-de.tsv"),
    ),
    Case("empty file", run("udpos", ["en", "de"]), "udpos/test-de.tsv is empty", put("udpos/test-de.tsv", "")),
    Case(
        "CoNLL line without a tag",
        run("udpos", ["en"]),
        "udpos/test-en.tsv line 2 has no gold labels",
        put("udpos/test-en.tsv", "The\tDET\ncat\n\n"),
    ),
    Case(
        "tag outside the label set",
        run("udpos", ["en"]),
        "udpos/train-en.tsv: example 'train-en-0' has the label 'NOUNS'",
        put("udpos/train-en.tsv", "cat\tNOUNS\n\n"),
    ),
    Case(
        "CoNLL not UTF-8",
        run("udpos", ["en"]),
        "udpos/test-en.tsv is not UTF-8 text (invalid byte at position 3)",
        put("udpos/test-en.tsv", NON_UTF8),
    ),
    Case(
        "TSV row without its label",
        run("xnli", ["en"]),
        "xnli/train-en.tsv line 2 has no gold labels",
        put("xnli/train-en.tsv", "a\tb\tneutral\na\tb\n"),
    ),
    Case(
        "label outside the label set",
        run("xnli", ["en"]),
        "has the label 'maybe', which is not one of xnli's",
        put("xnli/test-en.tsv", "a\tb\tmaybe\n"),
    ),
    Case(
        "headed TSV without a column",
        run("xnli", ["en"]),
        "XNLI-1.0/xnli.test.tsv lacks the column(s) gold_label",
        lambda data: (
            remove("xnli/test-en.tsv")(data),
            put("XNLI-1.0/xnli.test.tsv", "language\tsentence1\tsentence2\nen\ta\tb\n")(data),
        ),
    ),
    Case(
        "SQuAD JSON cut short",
        run("xquad", ["en"]),
        "squad/train-v1.1.json line 1: not valid JSON",
        cut("squad/train-v1.1.json"),
    ),
    Case(
        "SQuAD JSON without data",
        run("xquad", ["en"]),
        "xquad/xquad.en.json is not in the xquad release format (no 'data' field)",
        put("xquad/xquad.en.json", json.dumps({"version": "1.1"})),
    ),
    Case(
        "SQuAD JSON without paragraphs",
        run("xquad", ["de"]),
        "(no 'paragraphs' field)",
        put("xquad/xquad.de.json", json.dumps({"data": [{"title": "t"}]})),
    ),
    Case(
        "JSON lines cut short",
        run("xcopa", ["it"]),
        "xcopa/it/test.it.jsonl line 4: not valid JSON",
        cut("xcopa/it/test.it.jsonl", 0.9),
    ),
    Case(
        "JSON lines without a field",
        run("xcopa", ["et"]),
        "xcopa/train.en.jsonl line 1 has no 'premise' field",
        put("xcopa/train.en.jsonl", jsonl([{"choice1": "a", "choice2": "b", "question": "cause", "label": 0}])),
    ),
    Case(
        "labels file of another size",
        run("xcopa", ["et"]),
        "train-labels.lst has 2 labels for 4 questions",
        put("siqa/socialiqa-train-dev/train-labels.lst", "1\n2\n"),
    ),
    Case(
        "Tatoeba side missing",
        run("tatoeba", ["de"]),
        "tatoeba.deu-eng.eng does not exist",
        remove("tatoeba/tatoeba.deu-eng.eng"),
    ),
    Case(
        "Tatoeba sides not parallel",
        run("tatoeba", ["fr"]),
        "tatoeba.fra-eng.fra has 2 lines but",
        put("tatoeba/tatoeba.fra-eng.fra", "one\n"),
    ),
    Case(
        "data folder missing",
        run("udpos", ["en"], data={"dir": "/nonexistent/xlt-data"}),
        "data.dir /nonexistent/xlt-data: no such directory",
    ),
    # ---- encoders and the Hub ------------------------------------------------------------------------------
    Case(
        "Hub offline",
        run("udpos", ["en"], model={"name_or_path": "xlm-roberta-base-xyz"}),
        "model 'xlm-roberta-base-xyz' is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids",
        env={"HF_HUB_OFFLINE": "1"},
    ),
    Case(
        "model path missing",
        run("udpos", ["en"], model={"name_or_path": "/nonexistent/xlt-encoder"}),
        "model.name_or_path: no directory '/nonexistent/xlt-encoder'",
    ),
    Case(
        "Hub unreachable",
        run("udpos", ["en"], model={"name_or_path": "org/xlt-model"}),
        "the Hugging Face Hub (http://127.0.0.1:9) is unreachable",
        env={
            "HF_HUB_OFFLINE": "",
            "TRANSFORMERS_OFFLINE": "",
            "HF_DATASETS_OFFLINE": "",
            "HF_ENDPOINT": "http://127.0.0.1:9",
        },
    ),
    Case("pickled weights only", run_model_dir, "cannot load the encoder", model_dir("pickle")),
    Case("remote code", run_model_dir, "trust_remote_code", model_dir("remote")),
    # ---- `xlt score` ---------------------------------------------------------------------------------------
    Case(
        "predictions miss an id, --strict",
        score("--strict"),
        "xquad/test-en.json leaves 1 of the 1 ids",
        submissions(put("predictions/xquad/test-en.json", "{}")),
    ),
    Case(
        "predictions have an extra id, --strict",
        score("--strict"),
        "answers 1 ids the gold file lacks",
        submissions(put("predictions/xquad/test-en.json", json.dumps({"en1": "Bonn", "zz9": "x"}))),
    ),
    Case(
        "predictions miss a language",
        score(),
        "predictions/xnli lacks the languages de",
        submissions(remove("predictions/xnli/test-de.tsv")),
    ),
    Case(
        "predictions miss a line",
        score("--tasks", "xnli"),
        "1 predictions but 2 gold",
        submissions(put("predictions/xnli/test-en.tsv", "entailment\n")),
    ),
    Case(
        "predictions not UTF-8",
        score("--tasks", "xnli"),
        "predictions/xnli/test-en.tsv is not UTF-8",
        submissions(put("predictions/xnli/test-en.tsv", b"\xff\xfe\n\n")),
    ),
    Case(
        "predictions not JSON",
        score("--tasks", "xquad"),
        "xquad/test-en.json is not valid JSON",
        submissions(put("predictions/xquad/test-en.json", '{"en1": ')),
    ),
    Case("score unknown task", score("--tasks", "xnlii"), "unknown task 'xnlii'; did you mean 'xnli'?", submissions()),
    Case("score unknown benchmark", score("--benchmark", "xtreme-s"), "unknown benchmark 'xtreme-s'", submissions()),
    Case(
        "predictions folder missing",
        lambda s: ["score", "--predictions", str(s.root / "none"), "--labels", str(s.root / "none")],
        "none is not a folder",
    ),
    # ---- `xlt pretrain` ------------------------------------------------------------------------------------
    Case("pretrain text missing", pretrain("DATA/none.txt"), "none.txt: no such text file"),
    Case(
        "pretrain text not UTF-8",
        pretrain("DATA/udpos/test-en.tsv"),
        "test-en.tsv is not UTF-8 text",
        put("udpos/test-en.tsv", NON_UTF8),
    ),
    Case("pretrain text empty", pretrain("DATA/empty.txt"), "empty.txt is empty or not text", put("empty.txt", "\n\n")),
    Case(
        "pretrain languages collide",
        pretrain("de=DATA/udpos/test-en.tsv", "de=DATA/udpos/test-de.tsv"),
        "cannot tell its language from its name (it would be 'de' as",
    ),
    Case(
        "pretrain option",
        lambda s: ["pretrain", str(s.data / "udpos/test-en.tsv"), "--out", str(s.out), "--set", "max_steps=fast"],
        "pretrain options: max_steps: found 'fast'",
    ),
]


def test_the_corpus_is_large_and_covers_every_front_door(tmp_path):
    assert len(CASES) >= 40 and len({case.name for case in CASES}) == len(CASES)
    commands = {case.argv(Setup(tmp_path, tmp_path))[0] for case in CASES}
    assert commands == {"demo", "run", "score", "pretrain"}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(case, tiny_model_dir, tmp_path, capfd, monkeypatch):
    setup = Setup(tmp_path, tiny_model_dir)
    write_valid_data(setup.data)
    case.damage(setup)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if "HF_ENDPOINT" in case.env:  # read by huggingface_hub at import
        import huggingface_hub.constants

        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", case.env["HF_ENDPOINT"])
    argv = case.argv(setup)
    capfd.readouterr()
    code, stderr = run_xlt(capfd, *argv)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert case.expect in lines[0], lines[0]
    assert "Traceback" not in stderr
    assert not setup.out.exists(), "something was written"
    assert not (setup.data / "PWNED").exists(), "remote code ran"
