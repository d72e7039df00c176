"""Pure data functions the execution engine calls: bindings, branch choice, array splitting, dynamic workflows.

None of them does I/O except through the callables passed in; the ones that read are async.
"""

from propeller.data.arrays import array_size, element_inputs, gather_outputs, min_successes, narrowed_inputs
from propeller.data.bindings import OutputReader, alias_map, parse_promise_var, resolve_bindings
from propeller.data.branch import select_branch
from propeller.data.dynamic import dynamic_workflow_template, spec_version
from propeller.data.errors import ArrayUserError, BindingError, BranchUserError, DataError

__all__ = [
    "ArrayUserError",
    "BindingError",
    "BranchUserError",
    "DataError",
    "OutputReader",
    "alias_map",
    "array_size",
    "dynamic_workflow_template",
    "element_inputs",
    "gather_outputs",
    "min_successes",
    "narrowed_inputs",
    "parse_promise_var",
    "resolve_bindings",
    "select_branch",
    "spec_version",
]
