"""Run the report notebooks with papermill; the executed copies are the run record.

The kernel is always this interpreter (no global Jupyter setup needed, and a user-wide
"python3" kernelspec pointing at another Python cannot hijack the run). The kernel's
environment has no CONNECT_API_KEY or CONNECT_SERVER: a report is made from a snapshot
on disk, so the key has no reason to be reachable from notebook code.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from ..errors import ReportError

KERNEL_NAME = "python3"
HIDDEN_FROM_KERNEL = ("CONNECT_API_KEY", "CONNECT_SERVER")


class ThisPythonKernelManager(KernelManager):
    """Starts ipykernel on sys.executable, with the secrets removed from its environment.

    The kernel process's own log (ipykernel's start-up and shutdown lines, not cell output,
    which goes into the notebook) is written to `kernel_log` when set, not to the terminal.
    """

    kernel_log: Path | None = None
    extra_env: dict[str, str] = {}  # set per run on a subclass, like kernel_log

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                  "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)", language="python", metadata={})

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        env = dict(kw.get("env") or {})
        for name in HIDDEN_FROM_KERNEL:
            env.pop(name, None)
        env.update(self.extra_env)
        kw["env"] = env
        if self.kernel_log is not None:
            with open(self.kernel_log, "ab") as log:  # the child keeps its own copy of the fd
                kw["stdout"] = kw["stderr"] = log
                return await super()._async_launch_kernel(kernel_cmd, **kw)
        return await super()._async_launch_kernel(kernel_cmd, **kw)


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's `parameters` cell: `name: type = default  # meaning`."""

    name: str
    type: str
    default: object
    meaning: str


def notebook_paths(notebooks_dir: Path) -> list[Path]:
    """The report's notebooks, NN-kebab-name.ipynb, in their order."""
    paths = sorted(p for p in notebooks_dir.glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        raise ReportError(f"no notebooks (NN-name.ipynb) in {notebooks_dir}")
    return paths


def parameters_cell(path: Path) -> dict:
    """The one cell tagged `parameters` in the notebook at path."""
    nb = json.loads(Path(path).read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ReportError(f"{Path(path).name}: expected one cell tagged parameters, found {len(cells)}")
    return cells[0]


def notebook_parameters(path: Path) -> list[Parameter]:
    """The parameters a notebook declares, read from its parameters cell (literals only)."""
    cell = parameters_cell(path)
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    lines = source.splitlines()
    params = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.value is not None):
            raise ReportError(f"{Path(path).name}: the parameters cell may only hold "
                              f"`name: type = literal` lines (line {node.lineno})")
        line = lines[node.lineno - 1]
        meaning = line.split("#", 1)[1].strip() if "#" in line[node.value.end_col_offset:] else ""
        params.append(Parameter(node.target.id, ast.unparse(node.annotation),
                                ast.literal_eval(node.value), meaning))
    return params


def execute_notebooks(notebooks: list[Path], out_dir: Path, parameters: dict,
                      *, cwd: Path | None = None, jobs: int | None = None,
                      env: dict[str, str] | None = None) -> list[Path]:
    """Execute each notebook into out_dir (same file name); returns the paths, in order.

    Notebooks are independent, so up to `jobs` run at once (default: one per CPU, at most 4).
    Each receives only the parameters it declares. Every executed copy is kept, failed or
    not; ReportError names the first notebook (in order) that failed, and its cell.
    env: variables added to each kernel's environment.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, 4, len(notebooks)))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute_one, nb, out_dir, parameters, cwd, env or {})
                   for nb in notebooks]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [out_dir / nb.name for nb in notebooks]


def _execute_one(nb: Path, out_dir: Path, parameters: dict, cwd: Path | None,
                 env: dict[str, str]) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    declared = {p.name for p in notebook_parameters(nb)}
    given = {k: v for k, v in parameters.items() if k in declared}
    target = out_dir / nb.name
    log = out_dir / f"{nb.stem}.kernel.log"
    log.unlink(missing_ok=True)
    manager = type("KernelManagerFor" + nb.stem.replace("-", "_"), (ThisPythonKernelManager,),
                   {"kernel_log": log, "extra_env": dict(env)})
    try:
        papermill.execute_notebook(
            str(nb), str(target), parameters=given, kernel_name=KERNEL_NAME,
            progress_bar=False, request_save_on_cell_execute=False,
            cwd=str(cwd or nb.parent), kernel_manager_class=manager)
    except PapermillExecutionError as e:
        first = next((ln for ln in e.source.splitlines() if ln.strip()), "")
        raise ReportError(
            f"notebook {nb.name} failed in cell {e.cell_index}, In [{e.exec_count}] "
            f"({first.strip()[:60]!r}): "
            f"{e.ename}: {_one_line(e.evalue)} (run record: {target})",
            notebook=nb.name, cell_index=e.cell_index, exec_count=e.exec_count, ename=e.ename,
            evalue=e.evalue, run_record=str(target)) from None
    except Exception as e:  # kernel died, could not start, unreadable notebook
        raise ReportError(f"notebook {nb.name} could not run: {type(e).__name__}: "
                          f"{_one_line(str(e))} (run record: {target})", notebook=nb.name,
                          run_record=str(target) if target.exists() else None) from None
    return target


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 200 else text[:197] + "..."
