"""Kubernetes backends: one resource manager (`manager`) and the objects' builders (pod, array, spark, ray)."""
