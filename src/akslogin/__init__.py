"""akslogin: non-interactive Entra ID sign-in for AKS clusters, and a fast kubectl exec credential plugin."""

__version__ = "0.1.0"
