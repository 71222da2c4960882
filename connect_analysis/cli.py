"""The command line: a thin layer over the library. Each command calls one library
function and turns the library's errors into one line and a non-zero exit."""

from __future__ import annotations

import logging
import os
import signal
import sys

import click

from .errors import ConnectAnalysisError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C (so the same clean-up runs)."""


def _on_signal(signum, frame):
    for s in (signal.SIGINT, signal.SIGTERM):  # one press suffices: later ones wait for the clean-up
        signal.signal(s, signal.SIG_IGN)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _stop(line: str, code: int):
    """Print the line and leave at once: threads still blocked are not waited for."""
    click.echo(line, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Warnings(logging.Handler):
    """The library's warnings, one `warning:` line each on stderr (the key never shown)."""

    def emit(self, record):
        from ._keyguard import redact

        click.echo(f"warning: {redact(record.getMessage())}", err=True)


class _Group(click.Group):
    """Catches the library's errors and Ctrl-C: one line on stderr, no traceback."""

    def invoke(self, ctx):
        from ._keyguard import redact

        previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        logger = logging.getLogger("connect_analysis")
        if not any(isinstance(h, _Warnings) for h in logger.handlers):
            logger.addHandler(_Warnings(logging.WARNING))
        try:
            return super().invoke(ctx)
        except ConnectAnalysisError as e:
            click.echo(f"error: {redact(str(e))}", err=True)
            sys.exit(EXIT_ERROR)
        except Terminated:
            _stop("terminated: nothing was changed", EXIT_TERMINATED)
        except KeyboardInterrupt:
            _stop("interrupted: nothing was changed", EXIT_INTERRUPTED)
        except click.UsageError as e:  # one line like every other error (click's own print is four)
            hint = f" (see: {e.ctx.command_path} --help)" if e.ctx else ""
            click.echo(f"error: {e.format_message()}{hint}", err=True)
            sys.exit(e.exit_code)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="connect-analysis")
def main():
    """Plan a Posit Connect move to off-host (Kubernetes) execution.

    The API key is read from CONNECT_API_KEY only; the server URL from --server or
    CONNECT_SERVER.
    """


def _connect_version(ctx, param, value):
    from connect_simulator.server import VERSION

    if not VERSION.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a Connect version (YYYY.MM.PATCH, e.g. 2024.09.0)")
    return value


@main.command()
@click.option("--port", type=int, default=3939, show_default=True, help="Loopback port (0: any free port).")
@click.option("--api-key", required=True, help="The administrator key the simulator accepts.")
@click.option("--scenario", type=click.Choice(["demo", "large"]), default="demo", show_default=True,
              help="Which generated server to serve.")
@click.option("--connect-version", default="2026.06.0", show_default=True, callback=_connect_version,
              help="Connect version to imitate (YYYY.MM.PATCH); gates endpoints and fields.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Added latency per request.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fraction of requests answered 503, 429 or dropped mid-body.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for the generated data.")
@click.option("--capacity", type=click.IntRange(min=1), default=None,
              help="Requests served at once; more wait in a queue, so latency grows with the load.")
def simulate(port, api_key, scenario, connect_version, latency_ms, fault_rate, seed, capacity):
    """Serve a simulated Connect server on loopback until stopped."""
    from connect_simulator import serve_forever

    serve_forever(port=port, api_key=api_key, scenario=scenario, connect_version=connect_version,
                  latency_ms=latency_ms, fault_rate=fault_rate, seed=seed, capacity=capacity)


@main.command()
@click.option("--postgres", metavar="HOST:PORT|DSN",
              help="PostgreSQL: HOST:PORT tests TCP reachability; a DSN logs in and runs SELECT version().")
@click.option("--storage", metavar="PATH", help="Shared storage mount: writable, with the free space required.")
@click.option("--storage-required-bytes", type=click.IntRange(min=0), metavar="BYTES",
              help="Free space required on --storage (default: --snapshot's recommended capacity, else 100 GB).")
@click.option("--nodes", metavar="HOST,...", default="", help="Kubernetes nodes to test the NodePort range on.")
@click.option("--service-type", type=click.Choice(["ClusterIP", "NodePort", "LoadBalancer"]), default="ClusterIP",
              show_default=True, help="Content Service type; the NodePort check runs with NodePort or --nodes.")
@click.option("--port-range", default="30000-32767", show_default=True, metavar="LOW-HIGH",
              help="NodePort range (sampled to 128 ports per node when larger).")
@click.option("--server", envvar="CONNECT_SERVER", metavar="URL",
              help="Connect server to test (default: CONNECT_SERVER); the key comes from CONNECT_API_KEY.")
@click.option("--snapshot", type=click.Path(file_okay=False), metavar="DIR",
              help="Snapshot whose analysis gives the storage capacity required.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as a JSON list (the documented format).")
def preflight(postgres, storage, storage_required_bytes, nodes, service_type, port_range, server, snapshot,
              as_json):
    """Check from inside the new cluster: PostgreSQL, shared storage, NodePorts, Connect.

    Exit 0 only when every check passes; 1 otherwise.
    """
    from .preflight import (
        format_results,
        parse_port_range,
        results_to_json,
        run_preflight,
        skipped_checks,
    )

    results = run_preflight(postgres=postgres, storage=storage, nodes=nodes.split(","),
                            port_range=parse_port_range(port_range), server=server,
                            snapshot=snapshot, storage_required_bytes=storage_required_bytes,
                            service_type=service_type)
    skipped = skipped_checks(nodes.split(","), service_type)
    if as_json:  # the JSON list stays the documented contract; skips go to stderr
        click.echo(results_to_json(results))
        for name, why in skipped:
            click.echo(f"note: {name} {why}", err=True)
    else:
        click.echo(format_results(results, skipped))
    sys.exit(0 if all(r.ok for r in results) else EXIT_ERROR)


_renderer_option = click.option(
    "--renderer", type=click.Choice(["auto", "quarto", "builtin"]), default="auto", show_default=True,
    help="auto: Quarto when found (QUARTO_PATH, beside this Python, PATH), else the built-in renderer.")


def _jobs_option(command):
    """--jobs, for every command that fetches (options.JOBS_MODES)."""
    from .options import JOBS_DEFAULT, JOBS_HELP, JOBS_MODES

    return click.option("--jobs", type=click.Choice(JOBS_MODES), default=JOBS_DEFAULT, show_default=True,
                        help=JOBS_HELP)(command)


def _analysis_options(command):
    """The fields of AnalysisOptions (connect_analysis/options.py) as options of command."""
    from .options import fields_by_name

    for f in reversed(fields_by_name().values()):
        m = f.metadata
        repeatable = m["repeatable"]
        command = click.option(
            m["flag"], f.name, multiple=repeatable, metavar=m["metavar"], help=m["help"],
            type=None if m["minimum"] is None else click.IntRange(min=m["minimum"]),
            default=None if repeatable else f.default,
            show_default=not repeatable and f.default is not None)(command)
    return command


def _options(values: dict):
    """AnalysisOptions from a command's keyword arguments (the others are left in values)."""
    from .options import AnalysisOptions, fields_by_name

    return AnalysisOptions(**{name: values.pop(name) for name in fields_by_name()})


@main.command()
@click.argument("snapshot", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Where summary.json and the CSVs go.")
@_analysis_options
def analyze(snapshot, out, **options):
    """Analyse a snapshot: write summary.json and the CSVs into --out."""
    from .analysis import analyze_snapshot

    result = analyze_snapshot(snapshot, out, **_options(options).analyze_kwargs())
    for guid in result.summary["must_keep_not_found"]:
        click.echo(f"warning: must-keep GUID {guid} is not on the server", err=True)
    click.echo(f"wrote {out}")


@main.command("plan")
@click.argument("snapshot", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Where plan/ goes (values.yaml, environments, rebuild.sh, caches.sh, preflight.sh, ...).")
@_analysis_options
@click.option("--parallelism", type=click.IntRange(min=1), default=2, show_default=True,
              help="Builds at once in rebuild.sh (Posit advises starting at 2-3).")
@click.option("--service-type", type=click.Choice(["ClusterIP", "NodePort", "LoadBalancer"]),
              default="ClusterIP", show_default=True,
              help="Content Service type on the cluster; NodePort adds the NodePort range check to preflight.sh.")
@click.option("--check-nodeports", is_flag=True, help="Add the NodePort range check to preflight.sh anyway.")
def plan(snapshot, out, parallelism, service_type, check_nodeports, **options):
    """Write the files the next steps apply into --out/plan/ (the kit sends none of them)."""
    from .plan import plan_snapshot

    path = plan_snapshot(snapshot, out, **_options(options).analyze_kwargs(), parallelism=parallelism,
                         service_type=service_type, check_nodeports=check_nodeports)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("old", type=click.Path(file_okay=False))
@click.argument("new", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Where compare.csv and compare-summary.json go.")
def compare(old, new, out):
    """After the move: important content missing, changed or lacking a runtime on the new server."""
    from .analysis import compare_snapshots

    table = compare_snapshots(old, new, out)
    counts = table["status"].value_counts()
    click.echo(f"wrote {out}: {len(table)} important items, {int(counts.get('missing', 0))} missing, "
               f"{int(counts.get('changed', 0))} changed")


@main.command("run")
@click.option("--server", envvar="CONNECT_SERVER", required=True, metavar="URL",
              help="Connect server (default: CONNECT_SERVER); the key comes from CONNECT_API_KEY.")
@click.option("--out-root", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Holds snapshot/ (refreshed each run), one YYYY-MM-DD/ per run and latest.")
@click.option("--keep", type=click.IntRange(min=1), metavar="N", help="Keep only the newest N runs.")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="Usage window in days back from now.")
@_jobs_option
@_renderer_option
def run_scheduled(server, out_root, keep, days, jobs, renderer):
    """One scheduled run: refresh the snapshot, render OUT_ROOT/YYYY-MM-DD, prune to --keep.

    Exit 0 on success, non-zero on any failure; meant for cron.
    """
    from .schedule import scheduled_run

    result = scheduled_run(server, out_root, keep=keep, days=days, renderer=renderer, jobs=jobs)
    for path in result.pruned:
        click.echo(f"pruned {path}", err=True)
    click.echo(str(result.report))


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Directory to assemble the bundle in (replaced when complete).")
def bundle(out):
    """Assemble the report as Connect content (entry notebook, kit, requirements, manifest.json)."""
    from .publish import build_bundle

    path = build_bundle(out)
    click.echo(f"{path}\ndeploy it with (key from CONNECT_API_KEY): rsconnect deploy manifest {path / 'manifest.json'} "
               "--server URL --title 'Connect migration report'")


@main.command()
@click.option("--snapshot", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Snapshot directory written by `fetch`.")
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="OUT",
              help="Report directory: report.html, summary.json, CSVs, executed notebooks.")
@click.option("--pdf", is_flag=True, help="Also print report.pdf (headless Chromium).")
@_analysis_options
@click.option("--preflight", "preflight_file", type=click.Path(dir_okay=False), metavar="FILE.json",
              help="Results of `preflight --json` to include.")
@_renderer_option
def report(snapshot, out, pdf, preflight_file, renderer, **options):
    """Execute the notebooks on a snapshot and render one self-contained report.html."""
    from .report import build_report

    made = build_report(snapshot, out, options=_options(options), preflight=preflight_file, pdf=pdf,
                        renderer=renderer)
    _say_warnings(made)
    click.echo(made.html)
    if made.pdf:
        click.echo(made.pdf)


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="demo-output", show_default=True,
              metavar="OUT", help="Where the snapshot and the report go.")
@click.option("--pdf", is_flag=True, help="Also print report.pdf (headless Chromium).")
@_jobs_option
@_renderer_option
def demo(out, pdf, jobs, renderer):
    """Run the whole kit against the embedded simulated server; print the report's path."""
    from .demo import run_demo

    made = run_demo(out, pdf=pdf, renderer=renderer, jobs=jobs)
    _say_warnings(made)
    click.echo(made.html)


def _say_warnings(made) -> None:
    for line in made.warnings:  # Quarto's own warnings, e.g. a resource it could not fetch
        click.echo(f"warning: quarto: {line}", err=True)


@main.command()
@click.option("--server", metavar="URL", help="Connect server URL (default: CONNECT_SERVER).")
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Snapshot directory; an existing snapshot of the same server is refreshed incrementally.")
@click.option("--days", type=click.IntRange(min=1, max=36_500), default=90, show_default=True,
              help="Usage window: this many days back from now.")
@click.option("--since", metavar="DATE", help="Usage window start instead of --days (UTC date or timestamp).")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=None,
              help="A fixed number of requests in flight (default: adapt to the server's response times).")
@click.option("--max-workers", type=click.IntRange(min=1, max=64), default=32, show_default=True,
              help="The most requests in flight while adapting.")
@click.option("--bundle-history/--no-bundle-history", default=None,
              help="Read every bundle of every item (default: only on servers without the storage endpoints).")
@_jobs_option
@click.option("--quiet", is_flag=True, help="No progress bars (they are off anyway when stderr is not a terminal).")
def fetch(server, out, days, since, workers, max_workers, bundle_history, jobs, quiet):
    """Fetch a Connect server into a snapshot directory (key from CONNECT_API_KEY)."""
    from .fetch import fetch_snapshot

    manifest = fetch_snapshot(server=server, out=out, days=days, since=since, quiet=quiet, workers=workers,
                              bundle_history=bundle_history, max_workers=max_workers, jobs=jobs)
    rows = sum(manifest.get("row_counts", {}).values())
    gaps = f"; unavailable: {', '.join(manifest['unavailable'])}" if manifest.get("unavailable") else ""
    click.echo(f"wrote {out}: {rows} rows from {manifest['server']} "
               f"(Connect {manifest.get('server_version') or 'version hidden'}){gaps}")


if __name__ == "__main__":  # pragma: no cover
    main()
