"""Workflows the end-to-end tests run as pods on a real Kubernetes node (tests/e2e/test_k8s_pods_with_flytekit.py)."""
