"""The command line: a thin layer over the library. Each command calls one library
function and turns the library's errors into one line and a non-zero exit."""

from __future__ import annotations

import sys

import click

from .errors import ConnectAnalysisError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Catches the library's errors and Ctrl-C: one line on stderr, no traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConnectAnalysisError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was changed", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="connect-analysis")
def main():
    """Plan a Posit Connect move to off-host (Kubernetes) execution.

    The API key is read from CONNECT_API_KEY only; the server URL from --server or
    CONNECT_SERVER.
    """


@main.command()
@click.option("--port", type=int, default=3939, show_default=True, help="Loopback port (0: any free port).")
@click.option("--api-key", required=True, help="The administrator key the simulator accepts.")
@click.option("--scenario", type=click.Choice(["demo", "large"]), default="demo", show_default=True,
              help="Which generated server to serve.")
@click.option("--connect-version", default="2026.06.0", show_default=True,
              help="Connect version to imitate; gates endpoints and fields.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Added latency per request.")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Fraction of requests answered 503, 429 or dropped mid-body.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for the generated data.")
def simulate(port, api_key, scenario, connect_version, latency_ms, fault_rate, seed):
    """Serve a simulated Connect server on loopback until stopped."""
    from .simulator import serve_forever

    serve_forever(port=port, api_key=api_key, scenario=scenario, connect_version=connect_version,
                  latency_ms=latency_ms, fault_rate=fault_rate, seed=seed)


if __name__ == "__main__":  # pragma: no cover
    main()
