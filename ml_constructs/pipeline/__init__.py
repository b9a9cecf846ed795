"""The platform's own pipelines, written in the definition language of `ground.pipeline`."""
