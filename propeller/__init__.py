"""FlytePropeller: the compiler and the execution engine."""
