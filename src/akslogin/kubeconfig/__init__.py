"""Kubeconfig files: where they are (kubectl's rules), what is in them, and changing them safely.

- :mod:`.paths`  which file(s): ``--kubeconfig``/``--file``, ``KUBECONFIG`` list, ``~/.kube/config``
- :mod:`.model`  a thin view over the YAML mapping that keeps every field it does not know
- :mod:`.files`  load with clear errors; locked, atomic, 0600 writes with an optional backup
- :mod:`.merge`  kubectl-like merge of named entries (replace only when identical or asked to)
"""
