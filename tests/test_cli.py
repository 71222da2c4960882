import subprocess
import sys


def test_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "simulate" in out
