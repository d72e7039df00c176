"""Tasks that run as pods: typed I/O through the object store, retries, failures, memory, resources."""

import os
import time

from flytekit import Resources, Secret, current_context, task, workflow
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.types.file import FlyteFile


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def describe(total: int, name: str) -> str:
    """Says where it ran: the namespace of the pod's service account, and the API server the kubelet named."""
    with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as namespace:
        where = namespace.read().strip()
    return f"{name}: {total} in {where} ({os.environ.get('KUBERNETES_SERVICE_HOST', 'not on Kubernetes')})"


@task
def write_file(text: str) -> FlyteFile:
    path = "/tmp/note.txt"
    with open(path, "w") as out:
        out.write(text)
    return FlyteFile(path)


@task
def read_file(f: FlyteFile) -> str:
    with open(f) as source:
        return source.read().upper()


@workflow
def typed_io(a: int, b: int, name: str) -> tuple[str, str]:
    total = add(a=a, b=b)
    return describe(total=total, name=name), read_file(f=write_file(text=name))


@task(retries=2)
def flaky() -> int:
    """Fails on its first two attempts (a recoverable user error: flytekit's others are not retried), succeeds on
    the third."""
    attempt = int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))
    if attempt < 2:
        raise FlyteRecoverableException(f"attempt {attempt} fails on purpose")
    return attempt


@workflow
def retried() -> int:
    return flaky()


@task
def raises() -> int:
    if os.environ.get("FLYTE_INTERNAL_EXECUTION_ID"):  # always, in a pod; flytekit wants a return statement
        raise ValueError("the task raised on purpose")
    return 0


@workflow
def raising() -> int:
    return raises()


@task
def exits() -> int:
    """Leaves without flytekit's error document: the pod's exit code is all there is to tell."""
    if os.environ.get("FLYTE_INTERNAL_EXECUTION_ID"):
        os._exit(3)
    return 0


@workflow
def exiting() -> int:
    return exits()


@task(requests=Resources(mem="200Mi"), limits=Resources(mem="200Mi"))
def hungry() -> int:
    hoard = [bytearray(64 * 1024 * 1024) for _ in range(16)]  # 1 GiB under a 200 MiB limit
    return len(hoard)


@workflow
def out_of_memory() -> int:
    return hungry()


@task(requests=Resources(cpu="150m", mem="300Mi"), limits=Resources(cpu="400m", mem="400Mi"))
def sized() -> str:
    """The limits the kubelet gave this container's cgroup (v1): memory in bytes, CPU as quota/period."""
    with open("/sys/fs/cgroup/memory/memory.limit_in_bytes") as memory:
        limit = memory.read().strip()
    with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as quota, open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as period:
        return f"memory {limit}, cpu {quota.read().strip()}/{period.read().strip()}"


@workflow
def resources() -> str:
    return sized()


@task
def sleeps(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@workflow
def sleeper(seconds: int) -> int:
    return sleeps(seconds=seconds)


@task(secret_requests=[Secret(group="poddb", key="password", mount_requirement=Secret.MountType.ENV_VAR)])
def env_secret() -> str:
    return current_context().secrets.get("poddb", "password")


@task(secret_requests=[Secret(group="podfiles", key="token", mount_requirement=Secret.MountType.FILE)])
def file_secret() -> str:
    return current_context().secrets.get("podfiles", "token").strip()


@workflow
def secrets() -> tuple[str, str]:
    return env_secret(), file_secret()


@task
def talks(seconds: int) -> int:
    print("hello from the pod's container", flush=True)
    time.sleep(seconds)
    return seconds


@workflow
def talker(seconds: int) -> int:
    return talks(seconds=seconds)


@task
def counts(lines: int, pause: float) -> int:
    """Prints a numbered line every `pause` seconds: a log to follow while the pod writes it."""
    for i in range(lines):
        print(f"pod tick {i}", flush=True)
        time.sleep(pause)
    return lines


@workflow
def counter(lines: int, pause: float) -> int:
    return counts(lines=lines, pause=pause)


# Half a core requested (up to a whole one used while flytekit starts): four naps fill the node's two cores.
@task(requests=Resources(cpu="500m", mem="400Mi"), limits=Resources(cpu="1", mem="400Mi"))
def naps(seconds: int, index: int) -> int:
    """Sleeps five seconds longer than the nap before it, so the naps end one by one."""
    time.sleep(seconds + 5 * index)
    return index * index


@task
def adds_up(xs: list[int]) -> int:
    return sum(xs)


@workflow
def fanned(seconds: int) -> int:
    """Four pods in flight at once, then a fifth adding up what they return (14)."""
    return adds_up(xs=[naps(seconds=seconds, index=i) for i in range(4)])
