"""Typed builders of SageMaker Pipeline definitions (schema 2020-12-01) as plain JSON dicts.

Nothing here calls AWS or reads the clock: the same inputs always give the same definition.
"""
