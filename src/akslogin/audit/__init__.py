"""``akslogin audit``: a security scan of kubeconfig files.

- :mod:`.findings` what a finding is, severities, thresholds
- :mod:`.checks`   the pure scan over one file (no network, no secrets in the output)
- :mod:`.fixes`    the few rewrites that are safe to make automatically
"""
