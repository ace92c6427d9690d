"""Grading tools: the torch oracle, Hypothesis strategies, and (soon) the grading engine."""
