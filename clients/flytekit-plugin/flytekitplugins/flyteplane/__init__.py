"""flyteplane's ImageSpec builder for flytekit, registered when flytekit loads its plugins (no Docker needed)."""

from flytekit.image_spec.image_spec import ImageBuildEngine

from .builder import BUILDER, PRIORITY, FlyteplaneImageSpecBuilder

__all__ = ["BUILDER", "PRIORITY", "FlyteplaneImageSpecBuilder"]

# Above flytekit's Docker builder ("default", priority 1): an ImageSpec without `builder=` uses this one.
ImageBuildEngine.register(BUILDER, FlyteplaneImageSpecBuilder(), priority=PRIORITY)
