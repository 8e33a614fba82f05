"""Files shared with kubectl and other users: symlinked locks, planted plaintext refresh tokens, owners and modes
kept on rewrite, read-only files refused, bounded atomic backups, temp files of killed writers swept, caches
owned by someone else explained.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from support.file_safety import _kubeconfig


def test_a_stale_kubectl_lock_is_explained_not_broken(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config")
    lock = Path(str(kc) + ".lock")
    lock.write_bytes(b"")  # kubectl's lock is empty; this one was left by a kubectl that was killed
    old = lock.stat().st_mtime - 600
    os.utime(lock, (old, old))
    with pytest.raises(KubeconfigError) as info, files.kubectl_lock(str(kc), timeout=0.3):
        pass
    assert "has existed for 10 minutes" in info.value.message and f"rm {lock}" in (info.value.hint or "")
    assert lock.exists()  # explained, not removed behind kubectl's back
    lock.unlink()
    with files.kubectl_lock(str(kc), timeout=0.3):
        assert lock.read_bytes().startswith(files.KUBECTL_LOCK_MARK)
    assert not lock.exists()
