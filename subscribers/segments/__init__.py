"""Segments: saved filters over subscribers, evaluated when they are used.

``definition`` checks and types what a marketer (or a program) wrote,
``sql`` turns it into one parameterised SQL condition, ``services`` and
``selectors`` are what views, the API and campaigns call.
"""
