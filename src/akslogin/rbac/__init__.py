"""Kubernetes RBAC from the client's side: matching rules, reading Forbidden messages, writing bindings.

The product's own small implementation (the emulator's API server has its own, server-side one).
"""
