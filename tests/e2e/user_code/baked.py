"""Tasks whose code an image carries (`pyflyte register --copy none --image ...`): no bundle is uploaded."""

from flytekit import task, workflow


@task
def shout(text: str) -> str:
    return text.upper() + "!"


@workflow
def shout_wf(text: str) -> str:
    return shout(text=text)
