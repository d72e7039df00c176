"""The peers' versions of the peer workloads, for bench/peers.py (run only by the peers' own interpreters)."""
