"""Run stage: execute the reference solution and the submissions."""
