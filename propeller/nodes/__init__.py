"""Node handlers, one module per node kind behind the NodeHandler protocol in `base`."""
