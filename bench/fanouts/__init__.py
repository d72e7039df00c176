"""Fan-outs of thousands of nodes for bench/dynamic_scale.py (imported only by flytekit's interpreter)."""
