"""connect-analysis: plan a Posit Connect move to off-host execution.

Importing this package has no side effects and makes no request.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("connect-analysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
