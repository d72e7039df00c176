"""Example flytekit workflows the end-to-end tests register and run.

Only flytekit's own interpreter imports these modules (tests drive flytekit as subprocesses): the
test process never imports flytekit, whose generated flyteidl would clash with flyteidl_py.
"""
