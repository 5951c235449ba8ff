"""Autograder for the course, built on nbgrader.

Organised by pipeline stage:

- ``build``: turn ``solutions/*.py`` into the nbgrader source and the student release;
- ``probe``: the only module that runs inside a student's kernel; it hands results out as data;
- ``run``: execute the reference solution and the submissions through nbgrader;
- ``judge``: decide, outside the kernel, whether each result matches the reference;
- ``report``: tables and feedback from the gradebook;
- ``selfcheck``: prove the hidden tests on the reference, the blank release and the mutants.
"""

__version__ = "0.1.0"
