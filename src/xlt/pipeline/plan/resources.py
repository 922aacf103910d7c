"""What a study runs on: the encoder (a Hub id, a local directory, or one pretrained here and cached)
and the task data (a local directory, the Hub, or the embedded benchmark generated and cached).

The identity returned with each goes into every stage hash, so a different encoder or data set never
reuses a stage trained on another: a local encoder is named by its content, a Hub one by its commit
(`xlt.pipeline.plan.identity`), one pretrained here by its options. Both are made under a lock in the cache, so
concurrent runs make them once and the others wait.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from xlt.config import PretrainConfig, Study
from xlt.data.hub import offline_variables, probe_hub
from xlt.errors import XltError
from xlt.pipeline.plan.identity import hub_identity, local_identity
from xlt.runtime.io import stable_hash
from xlt.runtime.locks import held


def cache_dir() -> Path:
    return Path(os.environ.get("XLT_CACHE", Path.home() / ".cache" / "xlt")).expanduser()


def digests_dir() -> Path:
    """The cached sha256 of the files of local encoders (`xlt.pipeline.plan.identity`)."""
    return cache_dir() / "digests"


@dataclass(frozen=True)
class Resources:
    model_path: str  # what from_pretrained takes
    revision: str | None
    trust_remote_code: bool
    data_dir: Path | None
    identity: dict
    token_types: bool = False  # whether the encoder embeds token types (its pair tasks' stage hashes say so)


def resolve(study: Study, progress: bool = True, build: bool = True) -> Resources:
    """`build=False` (a dry run) names the benchmark and encoder a run would use without making them."""
    data_dir, data_identity = _data(study, build)
    model_path, model_identity = _model(study, data_dir, progress, build)
    identity = {"model": model_identity, "data": data_identity}
    model = study.model
    token_types = _token_types(model_path, model.revision, model.trust_remote_code, local_only=not build)
    return Resources(model_path, model.revision, model.trust_remote_code, data_dir, identity, token_types)


def _token_types(model_path: str, revision: str | None, trust_remote_code: bool, local_only: bool) -> bool:
    """Whether the encoder's family embeds token types, from its config (downloaded here for a Hub id unless
    `local_only`). False where the config cannot be read: a dry run before the encoder is downloaded (its identity
    then lacks the commit, so no hash is final) or pretrained (xlt pretrains with one token type), or a model the
    run's preflight refuses in its own line."""
    import transformers

    from xlt.encoders import family_for

    try:
        config = transformers.AutoConfig.from_pretrained(
            model_path, revision=revision, trust_remote_code=trust_remote_code, local_files_only=local_only
        )
        return family_for(config).token_types(config)
    except (OSError, ValueError, XltError):
        return False


def _data(study: Study, build: bool) -> tuple[Path | None, dict]:
    if study.data.synthetic is not None:
        from xlt.data.synthetic import generate_benchmark

        sizes = study.data.synthetic.resolved_sizes
        settings = {"seed": study.data.synthetic.seed, "sizes": sizes.model_dump()}
        path = cache_dir() / "synthetic" / stable_hash(settings)
        if build:
            with held(path.with_name(f".{path.name}.lock"), _waiting("the synthetic benchmark")):
                generate_benchmark(path, seed=study.data.synthetic.seed, sizes=sizes)
        return path, {"synthetic": settings}
    if study.data.dir is not None:
        path = study.data.dir.expanduser().resolve()
        if not path.is_dir():
            raise XltError(f"data.dir {study.data.dir}: no such directory (point it at your task files)")
        return path, {"dir": str(path)}
    return None, {"hub": True}


def _model(study: Study, data_dir: Path | None, progress: bool, build: bool) -> tuple[str, dict]:
    model = study.model
    if model.pretrain is not None:
        return _pretrained_here(model.pretrain, data_dir, progress, build)
    name = model.name_or_path
    assert name is not None  # the config asks for name_or_path when nothing is pretrained
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local.resolve()), local_identity(local, digests_dir())
    if _is_path(name):
        raise XltError(f"model.name_or_path: no directory {name!r} (a local encoder, or a Hub id such as org/name)")
    if build:  # a dry run names the Hub model and leaves its availability to the plan's list of needs
        ensure_hub_reachable(f"model {name!r}")
    offline = offline_variables()
    identity = hub_identity(name, model.revision, online=build and not offline)
    if build and offline and "commit" not in identity:
        raise XltError(
            f"model {name!r} is not in the local Hugging Face cache and {offline[0]} forbids downloading it: "
            f"download it where there is a network (`hf download {name}`), or point model.name_or_path at a local "
            "directory"
        )
    return name, identity


def _is_path(name: str) -> bool:
    """A name only a path can be: absolute, relative to . or ~, or deeper than a Hub id's org/name."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1


def _pretrained_here(config: PretrainConfig, data_dir: Path | None, progress: bool, build: bool) -> tuple[str, dict]:
    from xlt.data.synthetic import pretraining_files
    from xlt.pretrain import pretrain

    if data_dir is None:
        raise XltError("model.pretrain needs data.synthetic (the text it pretrains on); or set model.name_or_path")
    resolved = config.resolved
    key = stable_hash({"options": resolved.weights_options(), "data": str(data_dir.name)})
    path = cache_dir() / "encoders" / key
    if build and not path.exists():  # pretrain() renames a finished directory into place: it exists only when complete
        with held(path.with_name(f".{path.name}.lock"), _waiting("the pretrained encoder")):
            if not path.exists():  # made by the process we waited for
                pretrain(pretraining_files(data_dir), path, resolved, progress=progress)
    return str(path), {"pretrained": key}


def _waiting(what: str):
    def say(holder: str) -> None:
        print(f"waiting for {what}: {holder} is making it", file=sys.stderr, flush=True)

    return say


def ensure_hub_reachable(what: str) -> None:
    """Fail at once, with what to do, instead of letting a download hang on a closed network."""
    if not offline_variables():  # offline: from_pretrained reads the local cache and fails fast by itself
        probe_hub(
            what,
            "download it where there is a network and point model.name_or_path at the local directory,"
            " or set HF_HUB_OFFLINE=1 to use the local cache",
        )
