"""Where a study's stages run, as `xlt run` and `xlt demo` take it: the options declared once, here, and added to
each command by `backend_options`, which hands them to the command as one `Backends` value."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated

import typer

from xlt.errors import XltError

if TYPE_CHECKING:
    from collections.abc import Callable

    from xlt.pipeline.slurm import SlurmOptions

SLURM_ONLY = ("partition", "gpus_per_job", "cpus_per_job", "time", "array_parallelism", "retry_failed")


@dataclass(frozen=True)
class Backends:
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="local: run every stage here; slurm: one Slurm job per stage (through submitit), returns at once.",
        ),
    ] = "local"
    partition: Annotated[str | None, typer.Option("--partition", help="Slurm partition (default: the cluster's).")] = (
        None
    )
    gpus_per_job: Annotated[
        int | None, typer.Option("--gpus-per-job", min=0, help="GPUs per Slurm job (default 0).")
    ] = None
    cpus_per_job: Annotated[
        int | None, typer.Option("--cpus-per-job", min=1, help="CPUs per Slurm job (default 1).")
    ] = None
    time: Annotated[
        str | None,
        typer.Option(
            "--time",
            help="Time limit per Slurm job, sbatch's --time format (default 4:00:00; requeued and resumed past it).",
        ),
    ] = None
    array_parallelism: Annotated[
        int | None,
        typer.Option("--array-parallelism", min=1, help="Jobs of one Slurm job array running at once (32)."),
    ] = None
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Resubmit failed stages (and what waits on them).")
    ] = False
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes running independent stages at once on this machine, the cores (or GPUs) shared among"
            " them (local backend; default 1, for `xlt demo` one a CPU core up to 4).",
        ),
    ] = None
    track: Annotated[
        str | None,
        typer.Option(
            "--track",
            help="Experiment tracking: tensorboard, wandb or mlflow (sets"
            " tracking.backend; logs under the study's tracking/).",
        ),
    ] = None

    def slurm(self) -> SlurmOptions | None:
        """The Slurm backend's options (unset ones take SlurmOptions' defaults), or None for the local backend."""
        given = {
            name: value for name in SLURM_ONLY if (value := getattr(self, name)) is not None and value is not False
        }
        if self.backend == "slurm":
            if self.workers is not None:
                raise XltError("--workers: the local backend's; on Slurm every stage is a job of its own")
            from xlt.pipeline.slurm import SlurmOptions

            return SlurmOptions(**given)
        if self.backend != "local":
            raise XltError(f"--backend {self.backend!r}: choose local or slurm")
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise XltError(f"{flags}: Slurm options; add --backend slurm")
        return None

    def overrides(self) -> list[str]:
        """The config fields these options set, as --set overrides."""
        return [f"tracking.backend={self.track}"] if self.track else []


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with the `Backends` options added to its command line; it receives them as `backend`."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for parameter in signature.parameters.values() if parameter.name != "backend"]
    added = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hint)
        for f, hint in zip(fields(Backends), _hints(), strict=True)
    ]

    @functools.wraps(command)
    def with_backends(**given) -> None:
        chosen = Backends(**{name: given.pop(name) for name in _names()})
        command(**given, backend=chosen)

    parameters = own + added
    with_backends.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_backends.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return with_backends


def _names() -> list[str]:
    return [f.name for f in fields(Backends)]


def _hints() -> list[object]:
    hints = inspect.get_annotations(Backends, eval_str=True)
    return [hints[name] for name in _names()]
