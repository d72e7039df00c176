"""A workflow whose input is a dataclass holding a directory: by default one beside this module, holding one file."""

import os
from dataclasses import dataclass

from flytekit import task, workflow
from flytekit.types.directory import FlyteDirectory

ONE_FILE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "one_file")


@dataclass
class Shelf:
    label: str
    books: FlyteDirectory


@task
def list_shelf(shelf: Shelf) -> str:
    """`label:` then `name=content` of every file in the shelf's directory, sorted."""
    local = shelf.books.download()
    entries = []
    for root, _, files in os.walk(local):
        for name in files:
            path = os.path.join(root, name)
            with open(path) as handle:
                entries.append(f"{os.path.relpath(path, local)}={handle.read().strip()}")
    return f"{shelf.label}:" + ",".join(sorted(entries))


DEFAULT_SHELF = Shelf(label="default", books=FlyteDirectory(ONE_FILE))


@workflow
def shelf_wf(shelf: Shelf = DEFAULT_SHELF) -> str:
    return list_shelf(shelf=shelf)
