"""Typed inputs and outputs, a dataclass and a retried task: the quick-start example."""

import os
from dataclasses import dataclass

from flytekit import task, workflow
from flytekit.exceptions.user import FlyteRecoverableException


@dataclass
class Greeting:
    text: str
    length: int


@task
def greet(name: str, times: int) -> Greeting:
    text = " ".join([f"hello {name}"] * times)
    return Greeting(text=text, length=len(text))


@task(retries=2)
def shout(greeting: Greeting) -> str:
    # Fails on the first attempt to show retries: the second attempt succeeds.
    if os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") == "0":
        raise FlyteRecoverableException("first attempts are shy")
    return greeting.text.upper() + "!"


@workflow
def hello_wf(name: str = "flyteplane", times: int = 2) -> tuple[str, int]:
    greeting = greet(name=name, times=times)
    return shout(greeting=greeting), greeting.length
