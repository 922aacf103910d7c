"""What names an encoder in stage hashes and provenance: a local directory by its content, a Hub id by its commit.

A local directory's identity holds a digest of its config, weight and tokenizer files, so other weights
written to the same path make new stages. Each file's sha256 is kept in the xlt cache under the file's
(path, inode, size, mtime): a large checkpoint is read once, and a rewritten file (a new mtime) again.

A Hub id's identity holds the commit its revision resolves to (`huggingface_hub.resolve_revision`):
offline, in the local Hugging Face cache, the snapshot `from_pretrained` then loads; online, on the Hub,
the commit `from_pretrained` then downloads, which huggingface_hub records in the cache. So a first run
that downloads the model and the runs after it, online or offline, name the same commit.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

from xlt.errors import XltError
from xlt.runtime.io import atomic_write_text, file_digest, stable_hash

# what from_pretrained reads from a model directory (the other files there, a loss curve, a README, are not the model)
MODEL_FILES = (
    "config.json",
    "*.safetensors",
    "*.bin",
    "*.index.json",  # a sharded checkpoint's map of tensors to files
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "*.model",  # sentencepiece
    "vocab.*",
    "merges.txt",
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def local_identity(directory: Path, digests: Path) -> dict:
    """{"path", "content"}: `content` digests every model file of the directory (by name and sha256);
    `digests` is the folder of cached file digests."""
    directory = Path(directory).expanduser().resolve()
    files = {
        path.name: cached_digest(path, digests)
        for path in sorted(directory.iterdir())
        if path.is_file() and any(fnmatch(path.name, pattern) for pattern in MODEL_FILES)
    }
    return {"path": str(directory), "content": stable_hash(files)}


def cached_digest(path: Path, digests: Path) -> str:
    """The sha256 of a file, read from `digests` when the file is unchanged since it was last computed."""
    info = path.stat()
    entry = digests / stable_hash([str(path.resolve()), info.st_ino, info.st_size, info.st_mtime_ns])
    known = entry.read_text().strip() if entry.is_file() else ""
    if _SHA256.fullmatch(known):
        return known
    digest = file_digest(path)
    atomic_write_text(entry, digest)
    return digest


def hub_identity(name: str, revision: str | None, online: bool) -> dict:
    """{"hub", "revision"}, and "commit" where the revision resolves: `online`, on the Hub (which records it in
    the local cache); otherwise in the local Hugging Face cache alone."""
    identity: dict = {"hub": name, "revision": revision}
    commit = hub_commit(name, revision, online)
    return {**identity, "commit": commit} if commit else identity


def hub_commit(name: str, revision: str | None, online: bool) -> str | None:
    """The commit `revision` names; None offline when the cache has no record of it (nor, then, the model)."""
    from huggingface_hub import resolve_revision
    from huggingface_hub.errors import HfHubHTTPError, RevisionResolutionError

    try:
        return resolve_revision(name, revision=revision, local_files_only=not online).resolved
    except RevisionResolutionError:
        return None  # loading fails too, and the run's check of its inputs says so in its own line
    except HfHubHTTPError as err:  # the Hub answered: no such model or revision, or no access to it
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise XltError(
            f"model {name!r} at revision {revision or 'main'}: {reason}; check the name, the revision and your"
            " access (HF_TOKEN), or set HF_HUB_OFFLINE=1 to use the local cache"
        ) from None
