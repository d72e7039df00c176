"""Node handlers, one module per node kind behind the NodeHandler protocol in `base`.

`attempt` (a task attempt as its plugin sees it) and `cache` (task caching) serve the kinds that run
tasks; `dynamic` takes over a task node whose task wrote a dynamic workflow.
"""
