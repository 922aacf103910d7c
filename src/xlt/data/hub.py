"""Hugging Face Hub access for task data that fails at once, with one line, when the Hub is out of reach.

`datasets.load_dataset` without network retries for about 25 s before it gives up, and with the
offline variables set but read after `datasets` was imported it still tries the network. So we
decide first: offline variables set -> only the local `datasets` cache may answer; no variables ->
a quick TCP probe of the Hub endpoint before anything slow.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from xlt.errors import XltError

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
PROBE_TIMEOUT_S = 3.0
LOCAL_HINT = "give a data_dir holding the task's files (XTREME download layout or the official release files)"


def offline_variables() -> list[str]:
    """The offline variables that are set to a true value, as NAME=value."""
    return [
        f"{name}={os.environ[name]}"
        for name in OFFLINE_VARIABLES
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
    ]


def load_split(dataset: str, config: str | None, split: str):
    """One split of a Hub dataset (a `datasets.Dataset`), or an XltError at once when it cannot come."""
    where = f"{dataset}" + (f" ({config})" if config else "")
    offline = offline_variables()
    if offline and not _datasets_reads_offline():
        raise XltError(f"cannot load {where} from the Hugging Face Hub: {', '.join(offline)} is set; {LOCAL_HINT}")
    if not offline:
        probe_hub(where, f"{LOCAL_HINT}, or set HF_DATASETS_OFFLINE=1 to use the local datasets cache")
    import datasets

    # errors: unreachable, unknown, not cached, or a script-based dataset that datasets >= 4 no longer runs
    try:
        return datasets.load_dataset(dataset, config, split=split)
    except (ConnectionError, FileNotFoundError, ValueError, RuntimeError) as error:
        reason = " ".join(str(error).split())
        state = f" with {', '.join(offline)} set" if offline else ""
        raise XltError(
            f"cannot load {where} split {split!r} from the Hugging Face Hub{state} ({reason}); {LOCAL_HINT}"
        ) from None


def _datasets_reads_offline() -> bool:
    """`datasets` reads the offline variables once, at import: only then does it skip the network."""
    import datasets.config

    return bool(datasets.config.HF_HUB_OFFLINE)


def probe_hub(where: str, advice: str) -> None:
    """Fail in seconds, with `advice`, when the Hub's endpoint does not answer (instead of long retries)."""
    from huggingface_hub.constants import ENDPOINT

    url = urlparse(ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        raise XltError(
            f"cannot load {where}: the Hugging Face Hub ({ENDPOINT}) is unreachable ({error}); {advice}"
        ) from None
