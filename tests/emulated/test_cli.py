"""The command surface: --version, --help, shell completion, and `kubectl akslogin` as a kubectl plugin.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from akslogin import __version__
from support.run import clean_env, run_akslogin


def test_version_and_help(tmp_path: Path) -> None:
    version = run_akslogin(["--version"], clean_env(tmp_path))
    assert version.returncode == 0 and version.stdout.strip() == f"akslogin {__version__}"
    bare = run_akslogin([], clean_env(tmp_path))
    assert bare.returncode == 2 and "COMMAND" in bare.stdout
    help_text = run_akslogin(["--help"], clean_env(tmp_path)).stdout
    assert "examples:" in help_text and "exit codes:" in help_text


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_akslogin(["frobnicate"], clean_env(tmp_path))
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_bash_completion_completes_commands_flags_and_modes(tmp_path: Path) -> None:
    script = tmp_path / "completion.bash"
    script.write_text(run_akslogin(["completion", "bash"], clean_env(tmp_path)).stdout)

    def complete(*words: str) -> list[str]:
        line = " ".join(f'"{w}"' for w in words)
        probe = (f'source "{script}"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _akslogin; '
                 'printf "%s\\n" "${COMPREPLY[@]}"')
        out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
        return out.split()

    assert "get-token" in complete("akslogin", "get-")
    assert complete("akslogin", "get-token", "--server") == ["--server-id"]
    assert complete("akslogin", "get-token", "--login", "work") == ["workloadidentity"]


def test_zsh_and_fish_scripts(tmp_path: Path) -> None:
    zsh = run_akslogin(["completion", "zsh"], clean_env(tmp_path)).stdout
    assert zsh.startswith("#compdef akslogin") and "bashcompinit" in zsh
    fish = run_akslogin(["completion", "fish"], clean_env(tmp_path)).stdout
    assert "complete -c akslogin" in fish and "workloadidentity" in fish
