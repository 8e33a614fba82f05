"""Emulated Azure services around the cluster: Resource Manager, and the managed identity endpoints
(IMDS, App Service, Arc)."""
