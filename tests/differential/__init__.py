"""Differential testing of signalkit against plain Django (issue 17).

:mod:`differential.program` describes small programs of signals, receivers and
sends and generates them with Hypothesis; :mod:`differential.interpreter` runs
one and returns everything a sender or a receiver could tell apart;
:mod:`differential.observers` holds the observer set-ups a program runs under;
:mod:`differential.process` runs the same comparison in a process of its own,
with the observers installed before or after ``django.setup()`` and
sentry-sdk's patch on top. ``tests/test_differential.py`` drives them.
"""
