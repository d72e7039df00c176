"""Kubernetes backends: one resource manager (`manager`) and the plugins that build its objects (pod, array, spark, ray)."""
