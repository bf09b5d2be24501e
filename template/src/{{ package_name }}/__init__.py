"""Churn model pipeline: prepare, featurize, train, evaluate."""

__version__ = "0.1.0"
